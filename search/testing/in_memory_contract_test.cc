// The context contract, held by InMemorySearchContext with real training on
// this machine (LocalEvaluator).
#include "search/testing/context_contract.h"
#include "search/testing/in_memory_context.h"
#include "search/testing/local_evaluator.h"

namespace edgenas {
namespace {

class InMemoryHarness : public ContractHarness {
 public:
  SearchContext& Open(const SearchSettings& settings) override {
    settings_ = settings;
    ctx_ = Make();
    return *ctx_;
  }
  SearchContext& Reopen() override {
    std::unique_ptr<InMemorySearchContext> next = Make();
    if (ctx_->last_checkpoint()) next->SeedCheckpoint(*ctx_->last_checkpoint());
    next->SeedCache(ctx_->cache());
    if (corrupt_) next->CorruptCheckpoint();
    ctx_ = std::move(next);
    return *ctx_;
  }
  void CorruptCheckpoint() override {
    corrupt_ = true;
    ctx_->CorruptCheckpoint();
  }
  void Cancel() override { ctx_->Cancel(); }

 private:
  std::unique_ptr<InMemorySearchContext> Make() {
    return std::make_unique<InMemorySearchContext>(settings_, LocalEvaluator(datasets_),
                                                   LocalTaskExecutor(datasets_));
  }
  std::shared_ptr<DatasetCache> datasets_ = std::make_shared<DatasetCache>();
  SearchSettings settings_;
  std::unique_ptr<InMemorySearchContext> ctx_;
  bool corrupt_ = false;
};

INSTANTIATE_TEST_SUITE_P(InMemory, ContextContractTest,
                         ::testing::Values(HarnessFactory(
                             [] { return std::make_unique<InMemoryHarness>(); })),
                         // One harness: a readable name in place of the factory's bytes.
                         [](const auto&) { return std::string("InMemory"); });

}  // namespace
}  // namespace edgenas
