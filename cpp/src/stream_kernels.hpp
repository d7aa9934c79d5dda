// Serial streaming loops, one copy per SIMD level (stream_simd.cpp).
#pragma once

#include <cstdint>

#include "dispatch.hpp"

#define LKREG_DECLARE_STREAM_KERNELS(isa)                                   \
  namespace lkreg::isa {                                                    \
  template <class T> void stream_copy_kernel(const T* x, T* y, std::int64_t n); \
  template <class T> void stream_scale_kernel(T* x, T c, std::int64_t n);   \
  template <class T> double stream_sum_kernel(const T* x, std::int64_t n);  \
  }
LKREG_FOR_EACH_ISA(LKREG_DECLARE_STREAM_KERNELS)
#undef LKREG_DECLARE_STREAM_KERNELS
