// The coordinate-descent engine, one copy per SIMD level (solver_simd.cpp).
#pragma once

#include "dispatch.hpp"
#include "lkreg/solver.hpp"

#define LKREG_DECLARE_SOLVER_KERNELS(isa)                                                  \
  namespace lkreg::isa {                                                                   \
  template <class T>                                                                       \
  SolverResult coordinate_descent_kernel(const LinearProblem<T>& problem,                  \
                                         const SolverOptions& options, double* w);         \
  }
LKREG_FOR_EACH_ISA(LKREG_DECLARE_SOLVER_KERNELS)
#undef LKREG_DECLARE_SOLVER_KERNELS
