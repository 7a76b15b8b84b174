// Evaluation on this machine, without a coordinator: each request is
// trained and measured through the runtime's task registry exactly as a
// worker runs the coordinator's tasks. With InMemorySearchContext it makes
// a strategy usable as a library, and it is what the context contract runs
// the in-memory context against.
#ifndef EDGENAS_SEARCH_TESTING_LOCAL_EVALUATOR_H_
#define EDGENAS_SEARCH_TESTING_LOCAL_EVALUATOR_H_

#include <memory>

#include "runtime/tasks/dataset_cache.h"
#include "search/testing/in_memory_context.h"

namespace edgenas {

// Trains the request (from its initial weights when given) and measures its
// latency on this machine; the result carries the trained model. Training
// and measuring run one after the other on the calling thread.
Evaluator LocalEvaluator(std::shared_ptr<DatasetCache> datasets);

// Runs a task of any registered kind on this machine.
TaskExecutor LocalTaskExecutor(std::shared_ptr<DatasetCache> datasets);

}  // namespace edgenas

#endif  // EDGENAS_SEARCH_TESTING_LOCAL_EVALUATOR_H_
