// A common::aws::Rng that plays back fixed unit values in a loop, so backoff waits are exact in tests.
// 1.0 (outside the production range [0, 1)) gives the ceiling of the full-jitter range.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "common/aws/retry.h"

namespace tests {

class FixedRng final : public common::aws::Rng {
 public:
  explicit FixedRng(std::vector<double> values) : values_(std::move(values)) {}
  double next_unit() override {
    const double v = values_[i_ % values_.size()];
    ++i_;
    return v;
  }
  std::size_t calls() const { return i_; }

 private:
  std::vector<double> values_;
  std::size_t i_ = 0;
};

}  // namespace tests
