// Threading for the drivers (baseline code only; the SIMD kernels are serial over a range).
//
// A parallel call is a job of chunks for lkreg's thread pool (thread_pool.hpp): the caller
// and whichever workers are awake claim chunks until none are left. Element-wise kernels give
// the same bits however the array is split. Reductions are split into fixed blocks whose size
// does not depend on the thread count, and the block sums are added in order: the same bits
// for any thread count, and for any assignment of chunks to threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lkreg/config.hpp"
#include "thread_pool.hpp"

namespace lkreg::detail {

// Below this many elements a memory-bound kernel runs on one thread: waking a worker costs
// more than it saves (docs/architecture.md, "Threading runtime", has the measurement).
constexpr std::int64_t kParallelMinStreaming = std::int64_t{1} << 15;
// Compute-bound kernels (pow) pay for a worker sooner.
constexpr std::int64_t kParallelMinCompute = std::int64_t{1} << 12;
// Reduction block: large enough to amortize a call, small enough to balance two threads.
constexpr std::int64_t kReductionBlock = std::int64_t{1} << 14;
// Chunk starts are multiples of this, so vector loops start aligned when the array is (and
// packed masks start on a byte).
constexpr std::int64_t kChunkAlign = 64;
// Sleeping workers are woken only for jobs this many times min_parallel: below it the OS takes
// longer to run a woken worker than the job lasts, and awake workers (from a job moments ago)
// suffice. docs/architecture.md, "Threading runtime", has the measurement.
constexpr std::int64_t kWakeFactor = 32;
// Chunks per thread: a late worker leaves at most about 1/kChunksPerThread of its share to
// be done by the others, and a claim (one compare-and-swap) is cheap against a chunk.
constexpr std::int64_t kChunksPerThread = 8;

inline int threads_for(std::int64_t n, std::int64_t min_parallel) {
  if (n < min_parallel) return 1;
  // min_parallel may be 1 (GroupL2 over an axis whose groups are large): never divide by 0.
  const std::int64_t per_thread = std::max<std::int64_t>(1, min_parallel / 2);
  const std::int64_t most_useful = std::max<std::int64_t>(1, n / per_thread);
  return static_cast<int>(std::min<std::int64_t>(num_threads(), most_useful));
}

// Size of the pieces [0, n) is claimed in: a multiple of `align`, at least `min_chunk`.
inline std::int64_t chunk_length(std::int64_t n, int threads, std::int64_t min_chunk,
                                 std::int64_t align) {
  std::int64_t len = std::max(min_chunk, (n + threads * kChunksPerThread - 1) /
                                             (threads * kChunksPerThread));
  len = std::max(len, (n >> 30) + 1);  // fewer than 2**31 chunks, whatever n is
  return (len + align - 1) / align * align;
}

// body(begin, end) over pieces of length `len` (the last one shorter) that cover [0, n), on up
// to `threads` threads; `wake`: whether sleeping workers are woken for it.
template <class Body>
void run_pieces(std::int64_t n, int threads, std::int64_t len, bool wake, const Body& body) {
  struct Job {
    const Body* body;
    std::int64_t n;
    std::int64_t len;
  };
  const Job job{&body, n, len};
  run_chunks((n + len - 1) / len, threads,
             [](const void* p, std::int64_t c) {
               const Job& j = *static_cast<const Job*>(p);
               const std::int64_t begin = c * j.len;
               (*j.body)(begin, std::min(j.n, begin + j.len));
             },
             &job, wake);
}

// body(begin, end) over pieces that cover [0, n) exactly once, on up to num_threads() threads.
template <class Body>
void parallel_chunks(std::int64_t n, std::int64_t min_parallel, const Body& body) {
  const int nt = threads_for(n, min_parallel);
  if (nt <= 1) {
    if (n > 0) body(std::int64_t{0}, n);
    return;
  }
  run_pieces(n, nt, chunk_length(n, nt, std::max<std::int64_t>(1, min_parallel / 4), kChunkAlign),
             n >= kWakeFactor * min_parallel, body);
}

// Sum of block_sum(begin, end) over the fixed blocks of [0, n), added in block order.
template <class BlockSum>
double blocked_sum(std::int64_t n, std::int64_t min_parallel, const BlockSum& block_sum) {
  if (n <= kReductionBlock) return n > 0 ? block_sum(std::int64_t{0}, n) : 0.0;
  const std::int64_t blocks = (n + kReductionBlock - 1) / kReductionBlock;
  std::vector<double> partial(static_cast<std::size_t>(blocks));
  const auto sum_blocks = [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t b = first; b < last; ++b) {
      const std::int64_t begin = b * kReductionBlock;
      partial[static_cast<std::size_t>(b)] = block_sum(begin, std::min(n, begin + kReductionBlock));
    }
  };
  const int nt = threads_for(n, min_parallel);
  if (nt <= 1) {
    sum_blocks(0, blocks);
  } else {
    run_pieces(blocks, nt, chunk_length(blocks, nt, 1, 1), n >= kWakeFactor * min_parallel,
               sum_blocks);
  }
  double total = 0.0;
  for (double s : partial) total += s;
  return total;
}

}  // namespace lkreg::detail
