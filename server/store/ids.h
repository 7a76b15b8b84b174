// Identifiers for rows: a prefix and random hex from OpenSSL.
#ifndef EDGENAS_SERVER_STORE_IDS_H_
#define EDGENAS_SERVER_STORE_IDS_H_

#include <string>

namespace edgenas {

// "job-3f9a0c2d5e71" for NewId("job", 6).
std::string NewId(const char* prefix, int random_bytes = 6);

}  // namespace edgenas

#endif  // EDGENAS_SERVER_STORE_IDS_H_
