// Threading for the drivers (baseline code only; the SIMD kernels are serial over a range).
//
// Element-wise kernels give the same bits however the array is split, so they are split into
// one contiguous chunk per thread. Reductions are split into fixed blocks whose size does not
// depend on the thread count, and the block sums are added in order: the same bits for any
// thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lkreg/config.hpp"

namespace lkreg::detail {

// Below this many elements a memory-bound kernel runs on one thread: waking the team costs
// more than it saves.
constexpr std::int64_t kParallelMinStreaming = std::int64_t{1} << 15;
// Compute-bound kernels (pow) pay for the team sooner.
constexpr std::int64_t kParallelMinCompute = std::int64_t{1} << 12;
// Reduction block: large enough to amortize a call, small enough to balance two threads.
constexpr std::int64_t kReductionBlock = std::int64_t{1} << 14;
// Chunk starts are multiples of this, so vector loops start aligned when the array is.
constexpr std::int64_t kChunkAlign = 64;

inline int threads_for(std::int64_t n, std::int64_t min_parallel) {
  if (n < min_parallel) return 1;
  // min_parallel may be 1 (GroupL2 over an axis whose groups are large): never divide by 0.
  const std::int64_t per_thread = std::max<std::int64_t>(1, min_parallel / 2);
  const std::int64_t most_useful = std::max<std::int64_t>(1, n / per_thread);
  return static_cast<int>(std::min<std::int64_t>(num_threads(), most_useful));
}

// body(begin, end) over [0, n), one contiguous chunk per thread.
template <class Body>
void parallel_chunks(std::int64_t n, std::int64_t min_parallel, const Body& body) {
  const int nt = threads_for(n, min_parallel);
  if (nt <= 1) {
    if (n > 0) body(std::int64_t{0}, n);
    return;
  }
#if defined(_OPENMP)
  const std::int64_t units = (n + kChunkAlign - 1) / kChunkAlign;
#pragma omp parallel for schedule(static) num_threads(nt)
  for (int t = 0; t < nt; ++t) {
    const std::int64_t begin = std::min(n, units * t / nt * kChunkAlign);
    const std::int64_t end = std::min(n, units * (t + 1) / nt * kChunkAlign);
    if (begin < end) body(begin, end);
  }
#else
  body(std::int64_t{0}, n);
#endif
}

// Sum of block_sum(begin, end) over the fixed blocks of [0, n), added in block order.
template <class BlockSum>
double blocked_sum(std::int64_t n, std::int64_t min_parallel, const BlockSum& block_sum) {
  if (n <= kReductionBlock) return n > 0 ? block_sum(std::int64_t{0}, n) : 0.0;
  const std::int64_t blocks = (n + kReductionBlock - 1) / kReductionBlock;
  std::vector<double> partial(static_cast<std::size_t>(blocks));
  const auto sum_block = [&](std::int64_t b) {
    const std::int64_t begin = b * kReductionBlock;
    partial[static_cast<std::size_t>(b)] = block_sum(begin, std::min(n, begin + kReductionBlock));
  };
  const int nt = threads_for(n, min_parallel);
  if (nt <= 1) {  // no OpenMP region at all: see num_threads() on fork
    for (std::int64_t b = 0; b < blocks; ++b) sum_block(b);
  } else {
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) num_threads(nt)
#endif
    for (std::int64_t b = 0; b < blocks; ++b) sum_block(b);
  }
  double total = 0.0;
  for (double s : partial) total += s;
  return total;
}

}  // namespace lkreg::detail
