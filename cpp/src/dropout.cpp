// Dropout drivers: threading and SIMD dispatch around the serial kernels.
#include "lkreg/dropout.hpp"

#include <cmath>

#include "dropout_kernels.hpp"
#include "lkreg/stream.hpp"
#include "parallel.hpp"

namespace lkreg {
namespace {

// Philox is compute-bound (about 0.5 ns per element and core with AVX-512, 1 ns with AVX2):
// worth a team well before the streaming kernels are.
constexpr std::int64_t kMinParallelDraw = detail::kParallelMinCompute;

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

// The same source for the range starting at element begin.
detail::MaskSource at(detail::MaskSource m, std::int64_t begin) {
  m.first += static_cast<std::uint64_t>(begin);
  return m;
}

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
  const detail::MaskSource m = mask_source(s, p);
  const auto kernel = LKREG_SELECT(mask_kernel);
  detail::parallel_chunks(n, kMinParallelDraw, [&](std::int64_t b, std::int64_t e) {
    kernel(at(m, b), mask + b, e - b);
  });
}

void dropout_mask_packed(const DropoutStream& s, double p, std::uint8_t* bits, std::int64_t n) {
  const detail::MaskSource m = mask_source(s, p);
  const auto kernel = LKREG_SELECT(packed_mask_kernel);
  detail::parallel_chunks(n, kMinParallelDraw, [&](std::int64_t b, std::int64_t e) {
    kernel(at(m, b), bits + b / 8, e - b);
  });
}

template <class T>
void dropout(const DropoutStream& s, double p, const T* x, T* y, std::uint8_t* mask,
             std::int64_t n) {
  if (p == 0 && mask == nullptr) {  // the identity
    if (x != y) stream_copy(x, y, n);
    return;
  }
  const detail::MaskSource m = mask_source(s, p);
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  const auto kernel = LKREG_SELECT(dropout_kernel<T>);
  detail::parallel_chunks(n, kMinParallelDraw, [&](std::int64_t b, std::int64_t e) {
    kernel(at(m, b), scale, x + b, y + b, mask == nullptr ? nullptr : mask + b, e - b);
  });
}

template <class T>
void alpha_dropout(const DropoutStream& s, double p, const T* x, T* y, std::int64_t n) {
  if (p == 0) {  // the identity, as in torch (a * x + b would turn -0 into +0)
    if (x != y) stream_copy(x, y, n);
    return;
  }
  // torch.nn.functional.alpha_dropout's a and b, in its order of operations; alpha' is
  // -lambda * alpha of SELU.
  constexpr double kAlphaPrime = -1.7580993408473766;
  const double a = 1.0 / std::sqrt((kAlphaPrime * kAlphaPrime * p + 1.0) * (1.0 - p));
  const double b = -a * kAlphaPrime * p;
  const detail::MaskSource m = mask_source(s, p);
  const auto kernel = LKREG_SELECT(alpha_dropout_kernel<T>);
  const T a_t = static_cast<T>(a), a_alpha = static_cast<T>(a * kAlphaPrime);
  const T b_t = static_cast<T>(b);
  detail::parallel_chunks(n, kMinParallelDraw, [&](std::int64_t lo, std::int64_t hi) {
    kernel(at(m, lo), a_t, a_alpha, b_t, x + lo, y + lo, hi - lo);
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
  template void dropout_backward<T>(const std::uint8_t*, bool, double, const T*, T*,           \
                                    std::int64_t);
LKREG_INSTANTIATE(float)
LKREG_INSTANTIATE(double)
#undef LKREG_INSTANTIATE

}  // namespace lkreg
