// Fuzz target: the header a model file carries (`nesgd train --save-model`,
// `--load-model`, `nesgd noise --load-model`): the JSON model spec stored in
// the LibTorch archive under "nesgd_model_spec", read by
// models::model_spec_from_text before any network is built. The archive
// around it (zip + pickle) is LibTorch's reader, not fuzzed here (docs/FUZZING.md).
// Seeds: corpus/model_spec/; dictionary: dict/model_spec.dict.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "nesgd/models/model_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nesgd;
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_only_nesgd_errors([&] {
    const models::ModelSpec s = models::model_spec_from_text(text, "model.pt");
    // What make_model may rely on.
    if (s.in_channels < 1 || s.in_channels > models::kMaxModelChannels || s.height < 1 ||
        s.height > models::kMaxModelSide || s.width < 1 || s.width > models::kMaxModelSide || s.num_classes < 1 ||
        s.num_classes > models::kMaxModelClasses || s.ghost_batch_size < 1) {
      std::abort();
    }
    // Written back, it reads the same.
    const models::ModelSpec again = models::model_spec_from_json(models::to_json(s), "again");
    if (models::to_json(again) != models::to_json(s)) std::abort();
  });
  return 0;
}
