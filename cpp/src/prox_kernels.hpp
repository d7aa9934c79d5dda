// Serial element-wise prox kernels over one range, one copy per SIMD level (prox_simd.cpp).
// The *_weighted kernels return whether every threshold they read was >= 0 (NaN counts as such).
#pragma once

#include <cstdint>

#include "dispatch.hpp"
#include "lkreg/penalty.hpp"

#define LKREG_DECLARE_PROX_KERNELS(isa)                                                       \
  namespace lkreg::isa {                                                                      \
  template <class T> void soft_threshold_kernel(const T* x, T t, T c, T* y, std::int64_t n);  \
  template <class T>                                                                          \
  bool soft_threshold_weighted_kernel(const T* x, const T* t, T* y, std::int64_t n);          \
  template <class T> void hard_threshold_kernel(const T* x, T t, T* y, std::int64_t n);       \
  template <class T>                                                                          \
  bool hard_threshold_weighted_kernel(const T* x, const T* t, T* y, std::int64_t n);          \
  template <class T> void scale_kernel(const T* x, T c, T* y, std::int64_t n);                \
  template <class T>                                                                          \
  void lk_prox_kernel(const T* x, double k, double tau, T* y, std::int64_t n);                \
  template <class T>                                                                          \
  void penalty_prox_steps_kernel(const PenaltyParams& p, const T* x, const T* step, T* y,     \
                                 std::int64_t n);                                             \
  template <class T>                                                                          \
  void subdiff_distance_kernel(const PenaltyParams& p, const T* w, const T* g, T* d,          \
                               std::int64_t n);                                               \
  }
LKREG_FOR_EACH_ISA(LKREG_DECLARE_PROX_KERNELS)
#undef LKREG_DECLARE_PROX_KERNELS
