// Dataset pixels to tensors: uint8 pixels become k / 255 (in float32, then the
// run's dtype), float32 pixels stay exactly as they are, and the tensors own
// their data (the ImageSet may go away).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <memory>

#include "nesgd/runtime/tensors.h"

using namespace nesgd;

namespace {

// Two 1x2x2 images with labels 1 and 0.
std::unique_ptr<data::ImageSet> two_images() {
  auto set = std::make_unique<data::ImageSet>();
  set->n = 2;
  set->channels = 1;
  set->height = 2;
  set->width = 2;
  set->num_classes = 2;
  set->labels = {1, 0};
  return set;
}

}  // namespace

TEST(Tensors, Uint8PixelsAreScaledBy255) {
  auto set = two_images();
  set->images = {0, 51, 255, 1, 2, 3, 4, 5};
  const runtime::TensorSet t = runtime::to_tensors(*set, torch::kCPU);
  set.reset();
  ASSERT_EQ(t.x.sizes(), (std::vector<int64_t>{2, 1, 2, 2}));
  EXPECT_EQ(t.x.scalar_type(), torch::kFloat32);
  EXPECT_EQ(t.x[0][0][0][1].item<float>(), 51.0f / 255.0f);
  EXPECT_EQ(t.x[0][0][1][0].item<float>(), 1.0f);
  EXPECT_EQ(t.y[0].item<int64_t>(), 1);
}

TEST(Tensors, Float32PixelsAreTakenAsTheyAre) {
  for (torch::ScalarType dtype : {torch::kFloat32, torch::kFloat64}) {
    auto set = two_images();
    set->pixels_f32 = {-1.5f, 0.0f, 300.25f, 1e-7f, 2.0f, 3.0f, 4.0f, 5.0f};
    const std::vector<float> want = set->pixels_f32;
    const runtime::TensorSet t = runtime::to_tensors(*set, torch::kCPU, dtype);
    set->pixels_f32.assign(8, 99.0f);  // the tensor must hold a copy
    set.reset();
    ASSERT_EQ(t.x.sizes(), (std::vector<int64_t>{2, 1, 2, 2}));
    EXPECT_EQ(t.x.scalar_type(), dtype);
    const auto flat = t.x.to(torch::kFloat32).contiguous().view({-1});
    for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(flat[i].item<float>(), want[static_cast<std::size_t>(i)]) << i;
    EXPECT_EQ(t.y[1].item<int64_t>(), 0);
  }
}
