// Prints the job spec reference table that README.md carries.
#include <cstdio>

#include "server/spec/job_spec.h"

int main() {
  std::printf("%s", edgenas::JobSpecReferenceMarkdown().c_str());
  return 0;
}
