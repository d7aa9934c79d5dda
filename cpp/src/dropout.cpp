// Dropout drivers: threading and SIMD dispatch around the serial kernels.
#include "lkreg/dropout.hpp"

#include <algorithm>
#include <cmath>

#include "dropout_kernels.hpp"
#include "lkreg/stream.hpp"
#include "parallel.hpp"

namespace lkreg {
namespace {

// Philox is compute-bound (about 0.5 ns per element and core with AVX-512, 1 ns with AVX2):
// worth a team well before the streaming kernels are, but not at the pow kernels' 2**12: a
// 2**12-element dropout (3.7 us with AVX2) measured 1.03-1.26x one thread's time on 2 threads
// (the hand-off to a worker costs a microsecond or two), 2**13 0.92x and 2**14 0.87x.
constexpr std::int64_t kMinParallelDraw = std::int64_t{1} << 13;

detail::MaskSource mask_source(const DropoutStream& s, double p) {
  const std::uint64_t threshold = dropout_threshold(p);
  detail::MaskSource m{};
  m.key[0] = static_cast<std::uint32_t>(s.seed);
  m.key[1] = static_cast<std::uint32_t>(s.seed >> 32);
  m.stream[0] = static_cast<std::uint32_t>(s.stream);
  m.stream[1] = static_cast<std::uint32_t>(s.stream >> 32);
  m.first = s.offset;
  m.any_kept = threshold > 0;
  m.last_kept = static_cast<std::uint32_t>(threshold - (threshold > 0 ? 1 : 0));
  return m;
}

// The same source for the range starting at global index first + begin.
detail::MaskSource at(detail::MaskSource m, std::uint64_t begin) {
  m.first += begin;
  return m;
}

// A block's elements as runs of the whole array's flat order: run r holds block elements
// [r * length, (r + 1) * length), the first at global index first(r). The run is the block's
// trailing axes from its last partial axis on (those after it span the array), so a row-split
// block is one run, and a block split along the last axis one run per row.
class Runs {
 public:
  explicit Runs(const BlockLayout& b) : b_(b) {
    std::int64_t stride = 1;
    k_ = b.ndim;
    while (k_ > 0) {  // the global strides of the run axes; stop after the first partial one
      --k_;
      stride_[k_] = stride;
      base_ += static_cast<std::uint64_t>(b.start[k_]) * static_cast<std::uint64_t>(stride);
      length_ *= b.block[k_];
      stride *= b.shape[k_];
      if (b.block[k_] != b.shape[k_]) break;
    }
    size_ = length_;
    for (int d = k_ - 1; d >= 0; --d) {  // the outer axes: one run per index
      stride_[d] = stride;
      base_ += static_cast<std::uint64_t>(b.start[d]) * static_cast<std::uint64_t>(stride);
      size_ *= b.block[d];
      stride *= b.shape[d];
    }
  }
  std::int64_t size() const { return size_; }
  std::int64_t length() const { return length_; }
  std::uint64_t first(std::int64_t r) const {
    std::uint64_t g = base_;
    for (int d = k_ - 1; d >= 0 && r > 0; --d) {
      g += static_cast<std::uint64_t>(r % b_.block[d]) * static_cast<std::uint64_t>(stride_[d]);
      r /= b_.block[d];
    }
    return g;
  }

 private:
  static constexpr int kMaxDims = 64;  // NumPy's limit
  BlockLayout b_;
  int k_ = 0;
  std::int64_t stride_[kMaxDims] = {};
  std::uint64_t base_ = 0;
  std::int64_t length_ = 1, size_ = 1;
};

// One parallel pass over a block: piece(source, begin, n) for block elements [begin,
// begin + n), each piece within one run, its source at the run's global index.
template <class Piece>
void for_each_piece(const DropoutStream& s, double p, const BlockLayout& b, const Piece& piece) {
  const detail::MaskSource m = mask_source(s, p);
  const Runs runs(b);
  const std::int64_t length = runs.length();
  if (runs.size() == 0) return;
  detail::parallel_chunks(runs.size(), kMinParallelDraw, [&](std::int64_t lo, std::int64_t hi) {
    std::int64_t r = lo / length, pos = lo % length;
    while (lo < hi) {
      const std::int64_t n = std::min(length - pos, hi - lo);
      piece(at(m, runs.first(r) + static_cast<std::uint64_t>(pos)), lo, n);
      lo += n;
      ++r;
      pos = 0;
    }
  });
}

// A whole array of n elements as a block.
struct Flat {
  explicit Flat(std::int64_t n) : n_(n) {}
  BlockLayout layout() const { return BlockLayout{1, &n_, &zero_, &n_}; }
  std::int64_t n_, zero_ = 0;
};

// Parallel chunks start at multiples of detail::kChunkAlign, so packed ranges start on a byte.
static_assert(detail::kChunkAlign % 8 == 0, "packed masks need byte-aligned chunks");

}  // namespace

std::uint64_t dropout_threshold(double p) {
  // 1 - p is rounded once, as in the Python spec; the scaling by 2^32 and floor are exact.
  return static_cast<std::uint64_t>(std::floor((1.0 - p) * 4294967296.0));
}

void philox4x32_10(const std::uint32_t* counters, const std::uint32_t key[2], std::uint32_t* out,
                   std::int64_t n) {
  const auto kernel = LKREG_SELECT(philox_kernel);
  detail::parallel_chunks(n, kMinParallelDraw / 4, [&](std::int64_t b, std::int64_t e) {
    kernel(counters + 4 * b, key, out + 4 * b, e - b);
  });
}

void dropout_mask(const DropoutStream& s, double p, std::uint8_t* mask, std::int64_t n) {
  dropout_mask_block(s, p, Flat(n).layout(), mask);
}

void dropout_mask_block(const DropoutStream& s, double p, const BlockLayout& b,
                        std::uint8_t* mask) {
  const auto kernel = LKREG_SELECT(mask_kernel);
  for_each_piece(s, p, b, [&](const detail::MaskSource& m, std::int64_t lo, std::int64_t n) {
    kernel(m, mask + lo, n);
  });
}

void dropout_mask_packed(const DropoutStream& s, double p, std::uint8_t* bits, std::int64_t n) {
  const detail::MaskSource m = mask_source(s, p);
  const auto kernel = LKREG_SELECT(packed_mask_kernel);
  detail::parallel_chunks(n, kMinParallelDraw, [&](std::int64_t b, std::int64_t e) {
    kernel(at(m, static_cast<std::uint64_t>(b)), bits + b / 8, e - b);
  });
}

template <class T>
void dropout(const DropoutStream& s, double p, const T* x, T* y, std::uint8_t* mask,
             std::int64_t n) {
  dropout_block<T>(s, p, Flat(n).layout(), x, y, mask);
}

template <class T>
void dropout_block(const DropoutStream& s, double p, const BlockLayout& b, const T* x, T* y,
                   std::uint8_t* mask) {
  if (p == 0 && mask == nullptr) {  // the identity
    if (x != y) stream_copy(x, y, Runs(b).size());
    return;
  }
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  const auto kernel = LKREG_SELECT(dropout_kernel<T>);
  for_each_piece(s, p, b, [&](const detail::MaskSource& m, std::int64_t lo, std::int64_t n) {
    kernel(m, scale, x + lo, y + lo, mask == nullptr ? nullptr : mask + lo, n);
  });
}

template <class T>
void alpha_dropout(const DropoutStream& s, double p, const T* x, T* y, std::int64_t n) {
  alpha_dropout_block<T>(s, p, Flat(n).layout(), x, y);
}

template <class T>
void alpha_dropout_block(const DropoutStream& s, double p, const BlockLayout& b, const T* x,
                         T* y) {
  if (p == 0) {  // the identity, as in torch (a * x + b would turn -0 into +0)
    if (x != y) stream_copy(x, y, Runs(b).size());
    return;
  }
  // torch.nn.functional.alpha_dropout's a and b, in its order of operations; alpha' is
  // -lambda * alpha of SELU.
  constexpr double kAlphaPrime = -1.7580993408473766;
  const double a = 1.0 / std::sqrt((kAlphaPrime * kAlphaPrime * p + 1.0) * (1.0 - p));
  const double bias = -a * kAlphaPrime * p;
  const auto kernel = LKREG_SELECT(alpha_dropout_kernel<T>);
  const T a_t = static_cast<T>(a), a_alpha = static_cast<T>(a * kAlphaPrime);
  const T b_t = static_cast<T>(bias);
  for_each_piece(s, p, b, [&](const detail::MaskSource& m, std::int64_t lo, std::int64_t n) {
    kernel(m, a_t, a_alpha, b_t, x + lo, y + lo, n);
  });
}

template <class T>
void dropout_backward(const std::uint8_t* mask, bool packed, double p, const T* g, T* y,
                      std::int64_t n) {
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  if (packed) {
    const auto kernel = LKREG_SELECT(packed_masked_scale_kernel<T>);
    detail::parallel_chunks(n, detail::kParallelMinStreaming, [&](std::int64_t b, std::int64_t e) {
      kernel(mask + b / 8, scale, g + b, y + b, e - b);
    });
  } else {
    const auto kernel = LKREG_SELECT(masked_scale_kernel<T>);
    detail::parallel_chunks(n, detail::kParallelMinStreaming, [&](std::int64_t b, std::int64_t e) {
      kernel(mask + b, scale, g + b, y + b, e - b);
    });
  }
}

#define LKREG_INSTANTIATE(T)                                                                   \
  template void dropout<T>(const DropoutStream&, double, const T*, T*, std::uint8_t*,          \
                           std::int64_t);                                                      \
  template void alpha_dropout<T>(const DropoutStream&, double, const T*, T*, std::int64_t);    \
  template void dropout_block<T>(const DropoutStream&, double, const BlockLayout&, const T*,  \
                                 T*, std::uint8_t*);                                          \
  template void alpha_dropout_block<T>(const DropoutStream&, double, const BlockLayout&,      \
                                       const T*, T*);                                         \
  template void dropout_backward<T>(const std::uint8_t*, bool, double, const T*, T*,           \
                                    std::int64_t);
LKREG_INSTANTIATE(float)
LKREG_INSTANTIATE(double)
#undef LKREG_INSTANTIATE

}  // namespace lkreg
