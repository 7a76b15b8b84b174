// Prints the job spec reference table that README.md carries.
#include <cstdio>

#include "server/jobs/job_spec.h"

int main() {
  std::printf("%s", edgenas::JobSpecReferenceMarkdown().c_str());
  return 0;
}
