// The proximal Newton solver for logistic regression, one copy per SIMD level
// (logistic_simd.cpp).
#pragma once

#include "dispatch.hpp"
#include "lkreg/logistic.hpp"

#define LKREG_DECLARE_LOGISTIC_KERNELS(isa)                                                 \
  namespace lkreg::isa {                                                                    \
  template <class T>                                                                        \
  LogisticResult logistic_kernel(const LogisticProblem<T>& problem,                         \
                                 const LogisticOptions& options, double* W, double* b);     \
  }
LKREG_FOR_EACH_ISA(LKREG_DECLARE_LOGISTIC_KERNELS)
#undef LKREG_DECLARE_LOGISTIC_KERNELS
