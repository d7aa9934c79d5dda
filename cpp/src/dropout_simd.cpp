// Philox4x32-10 and the dropout loops; compiled once per SIMD level (see dispatch.hpp).
//
// The mask is drawn a tile at a time: one vectorized loop runs Philox over the tile's counters
// (lanes = counters) into a small buffer that stays in L1, and a second loop reads the buffer
// element by element (compare, select, scale, store), so x and y each cross memory once.
#include <cstdint>
#include <cstring>

#include "dropout_kernels.hpp"

namespace lkreg::LKREG_ISA {
namespace {

constexpr std::uint32_t kMul0 = 0xD2511F53u;
constexpr std::uint32_t kMul1 = 0xCD9E8D57u;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9u;
constexpr std::uint32_t kWeyl1 = 0xBB67AE85u;
constexpr int kRounds = 10;

// Counters per tile: 4 draws each. A multiple of 2, so tiles hold whole bytes of packed mask.
constexpr std::int64_t kTileCounters = 128;
constexpr std::int64_t kTileElements = 4 * kTileCounters;

struct RoundKeys {
  std::uint32_t k0[kRounds];
  std::uint32_t k1[kRounds];
};

inline RoundKeys round_keys(const std::uint32_t* key) {
  RoundKeys rk;
  std::uint32_t k0 = key[0], k1 = key[1];
  for (int r = 0; r < kRounds; ++r) {
    rk.k0[r] = k0;
    rk.k1[r] = k1;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return rk;
}

// A Philox word as the loop holds it. The 32x32 -> 64 products are written in uint64 so every
// level vectorizes them: with AVX-512DQ (vpmullq) keeping the words in 64-bit lanes is about
// 1.4x faster than widening and narrowing 32-bit lanes around each product; without it
// (pmuludq on widened 32-bit lanes) the 32-bit lanes are faster.
#if defined(__AVX512DQ__)
using Word = std::uint64_t;
#else
using Word = std::uint32_t;
#endif

[[gnu::always_inline]] inline void philox(const RoundKeys& rk, Word& c0, Word& c1, Word& c2,
                                          Word& c3) {
  constexpr std::uint64_t kLow = 0xFFFFFFFFu;
  for (int r = 0; r < kRounds; ++r) {  // every word stays below 2^32
    const std::uint64_t p0 = std::uint64_t{kMul0} * c0;
    const std::uint64_t p1 = std::uint64_t{kMul1} * c2;
    const Word next0 = static_cast<Word>(p1 >> 32) ^ c1 ^ rk.k0[r];
    const Word next2 = static_cast<Word>(p0 >> 32) ^ c3 ^ rk.k1[r];
    c1 = static_cast<Word>(p1 & kLow);
    c3 = static_cast<Word>(p0 & kLow);
    c0 = next0;
    c2 = next2;
  }
}

// u[4k + j] = output j of counter {first + k (64-bit), stream} for k < count.
inline void draw_counters(const RoundKeys& rk, const std::uint32_t* stream, std::uint64_t first,
                          std::int64_t count, std::uint32_t* u) {
  const std::uint32_t lo = static_cast<std::uint32_t>(first);
  const std::uint32_t hi = static_cast<std::uint32_t>(first >> 32);
  const std::uint32_t s0 = stream[0], s1 = stream[1];
#pragma omp simd
  for (std::int64_t k = 0; k < count; ++k) {
    const std::uint32_t counter_lo = lo + static_cast<std::uint32_t>(k);
    Word c0 = counter_lo;
    Word c1 = hi + (counter_lo < lo ? 1u : 0u);  // carry into the high word
    Word c2 = s0, c3 = s1;
    philox(rk, c0, c1, c2, c3);
    u[4 * k] = static_cast<std::uint32_t>(c0);
    u[4 * k + 1] = static_cast<std::uint32_t>(c1);
    u[4 * k + 2] = static_cast<std::uint32_t>(c2);
    u[4 * k + 3] = static_cast<std::uint32_t>(c3);
  }
}

// tile(begin, count, u): u[i] is the draw of element begin + i, for the range's tiles in
// order. Tiles start at multiples of kTileElements.
template <class Tile>
inline void for_each_tile(const detail::MaskSource& m, std::int64_t n, const Tile& tile) {
  const RoundKeys rk = round_keys(m.key);
  alignas(64) std::uint32_t u[kTileElements + 4];
  const std::int64_t skip = static_cast<std::int64_t>(m.first & 3);
  for (std::int64_t begin = 0; begin < n; begin += kTileElements) {
    const std::int64_t count = n - begin < kTileElements ? n - begin : kTileElements;
    const std::uint64_t g = m.first + static_cast<std::uint64_t>(begin);
    draw_counters(rk, m.stream, g >> 2, (skip + count + 3) / 4, u);
    tile(begin, count, u + skip);
  }
}

// The keep test with its scalars in locals: loops that store bytes cannot keep struct fields
// in registers (a byte store may alias them).
struct KeepTest {
  std::uint32_t last_kept;
  bool any_kept;
  explicit KeepTest(const detail::MaskSource& m) : last_kept(m.last_kept), any_kept(m.any_kept) {}
  bool operator()(std::uint32_t u) const { return (u <= last_kept) & any_kept; }
};

template <class T>
struct SameSizeUint;
template <>
struct SameSizeUint<float> {
  using type = std::uint32_t;
};
template <>
struct SameSizeUint<double> {
  using type = std::uint64_t;
};

// keep ? a : b on the bits. A plain ?: over a float product is not if-converted without
// -fno-trapping-math (the product could trap where it was not evaluated), so it would not
// vectorize below AVX-512.
template <class T>
inline T select(bool keep, T a, T b) {
  using U = typename SameSizeUint<T>::type;
  U ua, ub;
  std::memcpy(&ua, &a, sizeof a);
  std::memcpy(&ub, &b, sizeof b);
  const U all = U(0) - U(keep);
  const U r = (ua & all) | (ub & ~all);
  T out;
  std::memcpy(&out, &r, sizeof out);
  return out;
}

// y[i] = keep[i] ? g[i] * scale : 0 (a select, so a dropped inf or NaN gives 0, not NaN).
template <class T>
inline void scale_kept(const std::uint8_t* keep, T scale, const T* g, T* y, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) y[i] = select(keep[i] != 0, g[i] * scale, T(0));
}

// Packs 8 bytes that are 0 or 1 into one byte, byte j to bit j: the multiplier moves byte j's
// bit to bit 56 + j, and no two partial products share a bit, so nothing carries.
inline std::uint8_t pack8(const std::uint8_t* keep) {
  std::uint64_t w;
  std::memcpy(&w, keep, sizeof w);
  return static_cast<std::uint8_t>((w * 0x0102040810204080ULL) >> 56);
}

}  // namespace

void philox_kernel(const std::uint32_t* counters, const std::uint32_t* key, std::uint32_t* out,
                   std::int64_t n) {
  const RoundKeys rk = round_keys(key);
#pragma omp simd
  for (std::int64_t k = 0; k < n; ++k) {
    Word c0 = counters[4 * k], c1 = counters[4 * k + 1];
    Word c2 = counters[4 * k + 2], c3 = counters[4 * k + 3];
    philox(rk, c0, c1, c2, c3);
    out[4 * k] = static_cast<std::uint32_t>(c0);
    out[4 * k + 1] = static_cast<std::uint32_t>(c1);
    out[4 * k + 2] = static_cast<std::uint32_t>(c2);
    out[4 * k + 3] = static_cast<std::uint32_t>(c3);
  }
}

void mask_kernel(const detail::MaskSource& m, std::uint8_t* mask, std::int64_t n) {
  for_each_tile(m, n, [&](std::int64_t begin, std::int64_t count, const std::uint32_t* u) {
    const KeepTest kept(m);
    std::uint8_t* out = mask + begin;
#pragma omp simd
    for (std::int64_t i = 0; i < count; ++i) out[i] = kept(u[i]);
  });
}

// Element i goes to bit i % 8 of bits[i / 8]; the driver starts ranges at multiples of 8.
void packed_mask_kernel(const detail::MaskSource& m, std::uint8_t* bits, std::int64_t n) {
  alignas(64) std::uint8_t keep[kTileElements];
  for_each_tile(m, n, [&](std::int64_t begin, std::int64_t count, const std::uint32_t* u) {
    const KeepTest kept(m);
#pragma omp simd
    for (std::int64_t i = 0; i < count; ++i) keep[i] = kept(u[i]);
    const std::int64_t whole = count / 8;
    std::uint8_t* out = bits + begin / 8;
#pragma omp simd
    for (std::int64_t b = 0; b < whole; ++b) out[b] = pack8(keep + 8 * b);
    if (count % 8 != 0) {
      unsigned last = 0;
      for (std::int64_t j = 0; j < count % 8; ++j) last |= unsigned{keep[8 * whole + j]} << j;
      out[whole] = static_cast<std::uint8_t>(last);
    }
  });
}

template <class T>
void dropout_kernel(const detail::MaskSource& m, T scale, const T* x, T* y, std::uint8_t* mask,
                    std::int64_t n) {
  if (mask == nullptr) {
    for_each_tile(m, n, [&](std::int64_t begin, std::int64_t count, const std::uint32_t* u) {
      const KeepTest kept(m);
      const T s = scale;
      const T* xb = x + begin;
      T* yb = y + begin;
#pragma omp simd
      for (std::int64_t i = 0; i < count; ++i) yb[i] = select(kept(u[i]), xb[i] * s, T(0));
    });
  } else {
    for_each_tile(m, n, [&](std::int64_t begin, std::int64_t count, const std::uint32_t* u) {
      const KeepTest kept(m);
      const T s = scale;
      const T* xb = x + begin;
      T* yb = y + begin;
      std::uint8_t* mb = mask + begin;
#pragma omp simd
      for (std::int64_t i = 0; i < count; ++i) {
        const bool keep = kept(u[i]);
        mb[i] = keep;
        yb[i] = select(keep, xb[i] * s, T(0));
      }
    });
  }
}

// y = (kept ? a * x : a_alpha) + b. The select between the product and the sum keeps the
// compiler from fusing them into an FMA where the level has one: the same bits at every level.
template <class T>
void alpha_dropout_kernel(const detail::MaskSource& m, T a, T a_alpha, T b, const T* x, T* y,
                          std::int64_t n) {
  for_each_tile(m, n, [&](std::int64_t begin, std::int64_t count, const std::uint32_t* u) {
    const KeepTest kept(m);
    const T a_ = a, a_alpha_ = a_alpha, b_ = b;
    const T* xb = x + begin;
    T* yb = y + begin;
#pragma omp simd
    for (std::int64_t i = 0; i < count; ++i) yb[i] = select(kept(u[i]), a_ * xb[i], a_alpha_) + b_;
  });
}

template <class T>
void masked_scale_kernel(const std::uint8_t* mask, T scale, const T* g, T* y, std::int64_t n) {
  scale_kept(mask, scale, g, y, n);
}

// Unpacks a tile of bits to bytes first (byte j of bits * 0x0101... & 0x8040... is bit j, in
// place), so the scaling loop is the unpacked one. The driver starts ranges at multiples of 8.
template <class T>
void packed_masked_scale_kernel(const std::uint8_t* bits, T scale, const T* g, T* y,
                                std::int64_t n) {
  alignas(64) std::uint8_t keep[kTileElements];
  for (std::int64_t begin = 0; begin < n; begin += kTileElements) {
    const std::int64_t count = n - begin < kTileElements ? n - begin : kTileElements;
    const std::uint8_t* tile_bits = bits + begin / 8;
    const std::int64_t bytes = (count + 7) / 8;
#pragma omp simd
    for (std::int64_t b = 0; b < bytes; ++b) {
      const std::uint64_t spread =
          (std::uint64_t{tile_bits[b]} * 0x0101010101010101ULL) & 0x8040201008040201ULL;
      std::memcpy(keep + 8 * b, &spread, sizeof spread);
    }
    scale_kept(keep, scale, g + begin, y + begin, count);
  }
}

#define LKREG_INSTANTIATE(T)                                                                  \
  template void dropout_kernel<T>(const detail::MaskSource&, T, const T*, T*, std::uint8_t*,  \
                                  std::int64_t);                                              \
  template void alpha_dropout_kernel<T>(const detail::MaskSource&, T, T, T, const T*, T*,     \
                                        std::int64_t);                                        \
  template void masked_scale_kernel<T>(const std::uint8_t*, T, const T*, T*, std::int64_t);   \
  template void packed_masked_scale_kernel<T>(const std::uint8_t*, T, const T*, T*,           \
                                              std::int64_t);
LKREG_INSTANTIATE(float)
LKREG_INSTANTIATE(double)
#undef LKREG_INSTANTIATE

}  // namespace lkreg::LKREG_ISA
