// Solver driver: canonical penalty kinds and SIMD dispatch around the engine.
#include "lkreg/solver.hpp"

#include "penalty_kernels.hpp"
#include "solver_kernels.hpp"

namespace lkreg {

template <class T>
SolverResult coordinate_descent(const LinearProblem<T>& problem, const SolverOptions& options,
                                double* w) {
  SolverOptions o = options;
  o.penalty = detail::canonical(options.penalty);
  return LKREG_SELECT(coordinate_descent_kernel<T>)(problem, o, w);
}

template SolverResult coordinate_descent<float>(const LinearProblem<float>&,
                                                const SolverOptions&, double*);
template SolverResult coordinate_descent<double>(const LinearProblem<double>&,
                                                 const SolverOptions&, double*);

}  // namespace lkreg
