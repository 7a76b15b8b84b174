// The database schema as a list of migrations: migration i takes the schema
// from version i to i + 1 (PRAGMA user_version). Never edit a released
// migration; append a new one.
#ifndef EDGENAS_SERVER_STORE_SCHEMA_H_
#define EDGENAS_SERVER_STORE_SCHEMA_H_

#include <string>
#include <vector>

namespace edgenas {

const std::vector<std::string>& SchemaMigrations();

}  // namespace edgenas

#endif  // EDGENAS_SERVER_STORE_SCHEMA_H_
