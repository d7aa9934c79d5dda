// Philox4x32-10 and the dropout loops; compiled once per SIMD level (see dispatch.hpp).
//
// The mask is drawn a tile at a time: Philox runs over the tile's counters into a small buffer
// of draws in element order that stays in L1, and a second loop reads the buffer element by
// element (compare, select, scale, store), so x and y each cross memory once. Philox is the
// cost: at the AVX2 and AVX-512 levels it is written with intrinsics (the auto-vectorized
// 64-bit products become vpmullq, 3 uops on one port, at half the speed); the baseline level
// keeps the portable loop.
#include <cstdint>
#include <cstring>

#if defined(__AVX2__)
// GCC 12's AVX-512 intrinsics start from `__m512i __Y = __Y;` (an undefined pass-through), which
// -Wmaybe-uninitialized flags wherever they are inlined (GCC bug 105593); the warnings point
// into the header, so silencing it around the include silences only those.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

#include "dropout_kernels.hpp"

namespace lkreg::LKREG_ISA {
namespace {

constexpr std::uint32_t kMul0 = 0xD2511F53u;
constexpr std::uint32_t kMul1 = 0xCD9E8D57u;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9u;
constexpr std::uint32_t kWeyl1 = 0xBB67AE85u;
constexpr int kRounds = 10;

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

// A Philox word as the portable loop holds it. The 32x32 -> 64 products are written in uint64
// so every level vectorizes them: with AVX-512DQ (vpmullq) keeping the words in 64-bit lanes is
// faster than widening and narrowing 32-bit lanes around each product. Only the baseline level
// and the tails of philox_kernel run this loop.
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

// Philox over n counters stored as 4 words each (in place allowed).
inline void philox_portable(const RoundKeys& rk, const std::uint32_t* counters,
                            std::uint32_t* out, std::int64_t n) {
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

// Requests the cache line of p into L2: the tile being consumed and the draws keep L1, and a
// tile ahead of float64 would not fit beside them. GCC 12 deletes some __builtin_prefetch loops
// as if they did nothing, so on x86 the instruction is written out.
inline void prefetch_line(const char* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht1 %0" : : "m"(*p));
#else
  __builtin_prefetch(p, 0, 2);
#endif
}

// Cache lines to request, a part at a time: a burst of requests would fill the line fill
// buffers and stall the Philox arithmetic behind them.
struct Lines {
  static constexpr std::int64_t kLine = 64;
  const char* read = nullptr;
  const char* write = nullptr;
  std::int64_t read_lines = 0;
  std::int64_t write_lines = 0;

  // Part `part` of `parts` of the lines.
  void request(int part, int parts) const {
    for (std::int64_t i = read_lines * part / parts; i < read_lines * (part + 1) / parts; ++i)
      prefetch_line(read + i * kLine);
    for (std::int64_t i = write_lines * part / parts; i < write_lines * (part + 1) / parts; ++i)
      prefetch_line(write + i * kLine);
  }
};

// The arrays a kernel streams through. While Philox computes one tile, the lines of the next
// tile are requested: the hardware prefetchers follow demand, so without this the memory idles
// while Philox runs and the core idles while the tile streams, and the two times add up.
struct Streams {
  const void* read = nullptr;
  void* write = nullptr;
  std::int64_t element_bytes = 0;
  std::int64_t n = 0;

  // The lines of elements [begin, begin + count), clamped to the range.
  Lines lines(std::int64_t begin, std::int64_t count) const {
    Lines l;
    if (begin >= n) return l;
    const std::int64_t end = begin + count < n ? begin + count : n;
    l.read_lines = span(read, begin, end, l.read);
    l.write_lines = span(write, begin, end, l.write);
    return l;
  }

 private:
  // The lines that hold elements [begin, end) of p: first line in `first`, their count returned.
  std::int64_t span(const void* p, std::int64_t begin, std::int64_t end, const char*& first) const {
    if (p == nullptr) return 0;
    const auto address = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t from = (address + begin * element_bytes) / Lines::kLine;
    const std::uintptr_t to = (address + end * element_bytes + Lines::kLine - 1) / Lines::kLine;
    first = reinterpret_cast<const char*>(from * Lines::kLine);
    return static_cast<std::int64_t>(to - from);
  }
};

// The streams of a range of n elements. Below kPrefetchMinBytes per array the range is likely in
// L2 already (activations just written), and the requests would cost more than they save.
constexpr std::int64_t kPrefetchMinBytes = std::int64_t{1} << 19;
inline Streams streams_of(const void* read, void* write, std::int64_t element_bytes,
                          std::int64_t n) {
  if (n * element_bytes < kPrefetchMinBytes) return Streams{};
  return Streams{read, write, element_bytes, n};
}

#if defined(__AVX2__)
// Philox with one counter per 32-bit lane: a vector of each of the 4 words. x86 has no 32-bit
// high multiply; vpmuludq multiplies the even lanes into 64-bit products, so a round multiplies
// the even lanes and the odd lanes (shifted down) separately, then takes the high and the low
// words apart by swapping the halves of one product set and blending with the other.
//
// Lane 4L + m of a group holds counter kCounters / 4 * m + L, not m + 4L: then the in-lane 4x4
// transpose that interleaves the 4 words (unpack, 8 shuffles per group) leaves the group's draws
// in element order, with no shuffles across 128-bit lanes. The same transpose turns counters in
// element order into this layout.
#if defined(__AVX512F__)
struct Simd {
  using V = __m512i;
  static constexpr int kCounters = 16;
  // Groups per step: 8 independent chains hide the products' latency (5 cycles, then 2 more
  // dependent ops per round); 32 live vectors fit the 32 registers but for spills of constants.
  static constexpr int kSteps = 8;
  static V splat(std::uint32_t v) { return _mm512_set1_epi32(static_cast<int>(v)); }
  static V multiplier(std::uint32_t v) { return _mm512_set1_epi64(static_cast<long long>(v)); }
  static V lane_counters() {
    return _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  }
  static V add(V a, V b) { return _mm512_add_epi32(a, b); }
  // hi + (lo < base ? 1 : 0), unsigned: the carry of lo = base + lane offset.
  static V add_carry(V hi, V lo, V base) {
    return _mm512_mask_add_epi32(hi, _mm512_cmplt_epu32_mask(lo, base), hi, splat(1));
  }
  static void mul_hi_lo(V a, V m, V& hi, V& lo) {
    const V even = _mm512_mul_epu32(a, m);
    const V odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    hi = _mm512_mask_shuffle_epi32(odd, 0x5555, even, _MM_PERM_CDAB);
    lo = _mm512_mask_shuffle_epi32(even, 0xAAAA, odd, _MM_PERM_CDAB);
  }
  static V xor3(V a, V b, V c) { return _mm512_ternarylogic_epi32(a, b, c, 0x96); }
  static V unpacklo32(V a, V b) { return _mm512_unpacklo_epi32(a, b); }
  static V unpackhi32(V a, V b) { return _mm512_unpackhi_epi32(a, b); }
  static V unpacklo64(V a, V b) { return _mm512_unpacklo_epi64(a, b); }
  static V unpackhi64(V a, V b) { return _mm512_unpackhi_epi64(a, b); }
  static V load(const std::uint32_t* p) { return _mm512_loadu_si512(p); }
  static void store(std::uint32_t* p, V v) { _mm512_storeu_si512(p, v); }
};
#else
struct Simd {
  using V = __m256i;
  static constexpr int kCounters = 8;
  // 16 registers: 4 groups spill a little but still run faster than 2.
  static constexpr int kSteps = 4;
  static V splat(std::uint32_t v) { return _mm256_set1_epi32(static_cast<int>(v)); }
  static V multiplier(std::uint32_t v) { return _mm256_set1_epi64x(static_cast<long long>(v)); }
  static V lane_counters() { return _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7); }
  static V add(V a, V b) { return _mm256_add_epi32(a, b); }
  static V add_carry(V hi, V lo, V base) {
    // AVX2 compares only signed: flipping the sign bits makes it unsigned; true is -1.
    const V sign = splat(0x80000000u);
    const V carry = _mm256_cmpgt_epi32(_mm256_xor_si256(base, sign), _mm256_xor_si256(lo, sign));
    return _mm256_sub_epi32(hi, carry);
  }
  static void mul_hi_lo(V a, V m, V& hi, V& lo) {
    const V even = _mm256_mul_epu32(a, m);
    const V odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    hi = _mm256_blend_epi32(_mm256_shuffle_epi32(even, 0xB1), odd, 0xAA);
    lo = _mm256_blend_epi32(even, _mm256_shuffle_epi32(odd, 0xB1), 0xAA);
  }
  static V xor3(V a, V b, V c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }
  static V unpacklo32(V a, V b) { return _mm256_unpacklo_epi32(a, b); }
  static V unpackhi32(V a, V b) { return _mm256_unpackhi_epi32(a, b); }
  static V unpacklo64(V a, V b) { return _mm256_unpacklo_epi64(a, b); }
  static V unpackhi64(V a, V b) { return _mm256_unpackhi_epi64(a, b); }
  static V load(const std::uint32_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const V*>(p));
  }
  static void store(std::uint32_t* p, V v) { _mm256_storeu_si256(reinterpret_cast<V*>(p), v); }
};
#endif

using V = Simd::V;
constexpr std::int64_t kGroupCounters = Simd::kCounters;

// The 4 words of G groups of counters; c[j][g] is word j.
template <int G>
struct Block {
  V c[4][G];
};

// The rounds; requests a tenth of `lines` per round.
template <int G>
[[gnu::always_inline]] inline void philox_rounds(const RoundKeys& rk, Block<G>& b,
                                                 const Lines& lines = Lines{}) {
  const V m0 = Simd::multiplier(kMul0), m1 = Simd::multiplier(kMul1);
  for (int r = 0; r < kRounds; ++r) {
    lines.request(r, kRounds);
    const V k0 = Simd::splat(rk.k0[r]), k1 = Simd::splat(rk.k1[r]);
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      V hi0, lo0, hi1, lo1;
      Simd::mul_hi_lo(b.c[0][g], m0, hi0, lo0);
      Simd::mul_hi_lo(b.c[2][g], m1, hi1, lo1);
      b.c[0][g] = Simd::xor3(hi1, b.c[1][g], k0);
      b.c[2][g] = Simd::xor3(hi0, b.c[3][g], k1);
      b.c[1][g] = lo1;
      b.c[3][g] = lo0;
    }
  }
}

// Words j of 4 vectors <-> 4 vectors in element order, within each 128-bit lane (an involution).
[[gnu::always_inline]] inline void transpose4(V& a, V& b, V& c, V& d) {
  const V ab_lo = Simd::unpacklo32(a, b), ab_hi = Simd::unpackhi32(a, b);
  const V cd_lo = Simd::unpacklo32(c, d), cd_hi = Simd::unpackhi32(c, d);
  a = Simd::unpacklo64(ab_lo, cd_lo);
  b = Simd::unpackhi64(ab_lo, cd_lo);
  c = Simd::unpacklo64(ab_hi, cd_hi);
  d = Simd::unpackhi64(ab_hi, cd_hi);
}

// u[4k + j] = word j of counter {first + k (64-bit), stream} for k < G * kGroupCounters.
template <int G>
[[gnu::always_inline]] inline void draw_groups(const RoundKeys& rk, const std::uint32_t* stream,
                                               std::uint64_t first, std::uint32_t* u,
                                               const Lines& lines) {
  Block<G> b;
  const V lanes = Simd::lane_counters();
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
    const std::uint64_t base = first + static_cast<std::uint64_t>(g * kGroupCounters);
    const V base_lo = Simd::splat(static_cast<std::uint32_t>(base));
    b.c[0][g] = Simd::add(base_lo, lanes);
    b.c[1][g] = Simd::add_carry(Simd::splat(static_cast<std::uint32_t>(base >> 32)), b.c[0][g],
                                base_lo);
    b.c[2][g] = Simd::splat(stream[0]);
    b.c[3][g] = Simd::splat(stream[1]);
  }
  philox_rounds(rk, b, lines);
  constexpr int kStride = static_cast<int>(sizeof(V) / sizeof(std::uint32_t));
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
    transpose4(b.c[0][g], b.c[1][g], b.c[2][g], b.c[3][g]);
    std::uint32_t* out = u + 4 * g * kGroupCounters;
    for (int j = 0; j < 4; ++j) Simd::store(out + j * kStride, b.c[j][g]);
  }
}

// u[4k + j] = word j of counter {first + k, stream}, for k < count rounded up to a whole group.
// Meanwhile requests the lines of elements [ahead, ahead + 4 count) of s, a step at a time.
inline void draw_counters(const RoundKeys& rk, const std::uint32_t* stream, std::uint64_t first,
                          std::int64_t count, std::uint32_t* u, const Streams& s,
                          std::int64_t ahead) {
  constexpr std::int64_t kStep = Simd::kSteps * kGroupCounters;
  std::int64_t k = 0;
  for (; k + kStep <= count; k += kStep)
    draw_groups<Simd::kSteps>(rk, stream, first + static_cast<std::uint64_t>(k), u + 4 * k,
                              s.lines(ahead + 4 * k, 4 * kStep));
  for (; k < count; k += kGroupCounters)
    draw_groups<1>(rk, stream, first + static_cast<std::uint64_t>(k), u + 4 * k,
                   s.lines(ahead + 4 * k, 4 * kGroupCounters));
}

// Philox of G groups of counters read from memory in element order.
template <int G>
[[gnu::always_inline]] inline void philox_groups(const RoundKeys& rk, const std::uint32_t* in,
                                                 std::uint32_t* out) {
  constexpr int kStride = static_cast<int>(sizeof(V) / sizeof(std::uint32_t));
  Block<G> b;
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
    for (int j = 0; j < 4; ++j) b.c[j][g] = Simd::load(in + 4 * g * kGroupCounters + j * kStride);
    transpose4(b.c[0][g], b.c[1][g], b.c[2][g], b.c[3][g]);
  }
  philox_rounds(rk, b);
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
    transpose4(b.c[0][g], b.c[1][g], b.c[2][g], b.c[3][g]);
    for (int j = 0; j < 4; ++j) Simd::store(out + 4 * g * kGroupCounters + j * kStride, b.c[j][g]);
  }
}
#else
constexpr std::int64_t kGroupCounters = 1;

// u[4k + j] = output j of counter {first + k (64-bit), stream} for k < count. Meanwhile requests
// the lines of elements [ahead, ahead + 4 count) of s, a part every kPart counters.
inline void draw_counters(const RoundKeys& rk, const std::uint32_t* stream, std::uint64_t first,
                          std::int64_t count, std::uint32_t* u, const Streams& s,
                          std::int64_t ahead) {
  constexpr std::int64_t kPart = 64;
  const Lines lines = s.lines(ahead, 4 * count);
  const int parts = static_cast<int>((count + kPart - 1) / kPart);
  const std::uint32_t lo = static_cast<std::uint32_t>(first);
  const std::uint32_t hi = static_cast<std::uint32_t>(first >> 32);
  const std::uint32_t s0 = stream[0], s1 = stream[1];
  for (int part = 0; part < parts; ++part) {
    lines.request(part, parts);
    const std::int64_t end = (part + 1) * kPart < count ? (part + 1) * kPart : count;
#pragma omp simd
    for (std::int64_t k = part * kPart; k < end; ++k) {
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
}
#endif

// Counters per tile: 4 draws each; a multiple of 2, so tiles hold whole bytes of packed mask.
// A range that does not start on a counter (offset % 4 != 0) needs one counter more per tile,
// which the vector levels round up to a whole group: large tiles keep that waste small.
constexpr std::int64_t kTileCounters = 512;
constexpr std::int64_t kTileElements = 4 * kTileCounters;
constexpr std::int64_t kTileWords = 4 * (kTileCounters + kGroupCounters);

using Draw = std::uint32_t;  // one 32-bit Philox output

// tile(begin, count, u): u[i] is the draw of element begin + i, for the range's tiles in
// order. Tiles start at multiples of kTileElements. The lines of s are requested a tile ahead.
template <class Tile>
inline void for_each_tile(const detail::MaskSource& m, std::int64_t n, const Streams& s,
                          const Tile& tile) {
  const RoundKeys rk = round_keys(m.key);
  alignas(64) std::uint32_t u[kTileWords];
  const std::int64_t skip = static_cast<std::int64_t>(m.first & 3);
  s.lines(0, kTileElements).request(0, 1);
  for (std::int64_t begin = 0; begin < n; begin += kTileElements) {
    const std::int64_t count = n - begin < kTileElements ? n - begin : kTileElements;
    const std::uint64_t g = m.first + static_cast<std::uint64_t>(begin);
    draw_counters(rk, m.stream, g >> 2, (skip + count + 3) / 4, u, s, begin + kTileElements);
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

// y[i] = g[i] * (keep[i] ? scale : 0): the formula x * mask / (1 - p) with IEEE products, as
// torch, so a dropped NaN or inf gives NaN and a dropped finite value a signed zero.
template <class T>
inline void scale_kept(const std::uint8_t* keep, T scale, const T* g, T* y, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) y[i] = g[i] * select(keep[i] != 0, scale, T(0));
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
  std::int64_t k = 0;
#if defined(__AVX2__)
  constexpr std::int64_t kStep = Simd::kSteps * kGroupCounters;
  for (; k + kStep <= n; k += kStep) philox_groups<Simd::kSteps>(rk, counters + 4 * k, out + 4 * k);
  for (; k + kGroupCounters <= n; k += kGroupCounters)
    philox_groups<1>(rk, counters + 4 * k, out + 4 * k);
#endif
  philox_portable(rk, counters + 4 * k, out + 4 * k, n - k);
}

void mask_kernel(const detail::MaskSource& m, std::uint8_t* mask, std::int64_t n) {
  const Streams streams = streams_of(nullptr, mask, 1, n);
  for_each_tile(m, n, streams, [&](std::int64_t begin, std::int64_t count, const Draw* u) {
    const KeepTest kept(m);
    std::uint8_t* out = mask + begin;
#pragma omp simd
    for (std::int64_t i = 0; i < count; ++i) out[i] = kept(u[i]);
  });
}

// Element i goes to bit i % 8 of bits[i / 8]; the driver starts ranges at multiples of 8.
void packed_mask_kernel(const detail::MaskSource& m, std::uint8_t* bits, std::int64_t n) {
  alignas(64) std::uint8_t keep[kTileElements];
  for_each_tile(m, n, Streams{}, [&](std::int64_t begin, std::int64_t count, const Draw* u) {
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
  const Streams streams = streams_of(x, y, sizeof(T), n);
  if (mask == nullptr) {
    for_each_tile(m, n, streams, [&](std::int64_t begin, std::int64_t count, const Draw* u) {
      const KeepTest kept(m);
      const T s = scale;
      const T* xb = x + begin;
      T* yb = y + begin;
#pragma omp simd
      for (std::int64_t i = 0; i < count; ++i) yb[i] = xb[i] * select(kept(u[i]), s, T(0));
    });
  } else {
    for_each_tile(m, n, streams, [&](std::int64_t begin, std::int64_t count, const Draw* u) {
      const KeepTest kept(m);
      const T s = scale;
      const T* xb = x + begin;
      T* yb = y + begin;
      std::uint8_t* mb = mask + begin;
#pragma omp simd
      for (std::int64_t i = 0; i < count; ++i) {
        const bool keep = kept(u[i]);
        mb[i] = keep;
        yb[i] = xb[i] * select(keep, s, T(0));
      }
    });
  }
}

// y = (kept ? a * x : a_alpha) + b. The select between the product and the sum keeps the
// compiler from fusing them into an FMA where the level has one: the same bits at every level.
template <class T>
void alpha_dropout_kernel(const detail::MaskSource& m, T a, T a_alpha, T b, const T* x, T* y,
                          std::int64_t n) {
  const Streams streams = streams_of(x, y, sizeof(T), n);
  for_each_tile(m, n, streams, [&](std::int64_t begin, std::int64_t count, const Draw* u) {
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
