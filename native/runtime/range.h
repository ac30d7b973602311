#pragma once

namespace cellscan {

// The contiguous share [begin, end) of `count` items for worker w of n, in whole blocks of `block`
// so that vector and GEMM panels never straddle two workers.
struct Range {
  int begin;
  int end;
};
inline Range blockRange(int w, int n, int count, int block) {
  const int blocks = (count + block - 1) / block;
  const int b0 = static_cast<int>(static_cast<long>(blocks) * w / n);
  const int b1 = static_cast<int>(static_cast<long>(blocks) * (w + 1) / n);
  const int begin = b0 * block < count ? b0 * block : count;
  const int end = b1 * block < count ? b1 * block : count;
  return {begin, end};
}

}  // namespace cellscan
