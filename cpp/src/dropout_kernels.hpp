// Serial dropout kernels over one range, one copy per SIMD level (dropout_simd.cpp).
#pragma once

#include <cstdint>

#include "dispatch.hpp"

namespace lkreg::detail {

// What the kernels need to draw the mask of a range: the key, the stream words, the global
// index of the range's first element, and the keep test u <= last_kept (when any_kept).
struct MaskSource {
  std::uint32_t key[2];
  std::uint32_t stream[2];
  std::uint64_t first;
  std::uint32_t last_kept;
  bool any_kept;
};

}  // namespace lkreg::detail

#define LKREG_DECLARE_DROPOUT_KERNELS(isa)                                                     \
  namespace lkreg::isa {                                                                       \
  void philox_kernel(const std::uint32_t* counters, const std::uint32_t* key,                  \
                     std::uint32_t* out, std::int64_t n);                                      \
  void mask_kernel(const detail::MaskSource& m, std::uint8_t* mask, std::int64_t n);           \
  void packed_mask_kernel(const detail::MaskSource& m, std::uint8_t* bits, std::int64_t n);    \
  template <class T>                                                                           \
  void dropout_kernel(const detail::MaskSource& m, T scale, const T* x, T* y,                  \
                      std::uint8_t* mask, std::int64_t n);                                     \
  template <class T>                                                                           \
  void alpha_dropout_kernel(const detail::MaskSource& m, T a, T a_alpha, T b, const T* x,      \
                            T* y, std::int64_t n);                                             \
  template <class T>                                                                           \
  void masked_scale_kernel(const std::uint8_t* mask, T scale, const T* g, T* y,                \
                           std::int64_t n);                                                    \
  template <class T>                                                                           \
  void packed_masked_scale_kernel(const std::uint8_t* bits, T scale, const T* g, T* y,         \
                                  std::int64_t n);                                             \
  }
LKREG_FOR_EACH_ISA(LKREG_DECLARE_DROPOUT_KERNELS)
#undef LKREG_DECLARE_DROPOUT_KERNELS
