// Logistic regression driver: the canonical penalty and SIMD dispatch around the solver.
#include "lkreg/logistic.hpp"

#include "logistic_kernels.hpp"
#include "penalty_kernels.hpp"

namespace lkreg {

template <class T>
LogisticResult logistic_regression(const LogisticProblem<T>& problem,
                                   const LogisticOptions& options, double* W, double* b) {
  LogisticOptions o = options;
  o.penalty = detail::canonical(options.penalty);
  return LKREG_SELECT(logistic_kernel<T>)(problem, o, W, b);
}

template LogisticResult logistic_regression<float>(const LogisticProblem<float>&,
                                                   const LogisticOptions&, double*, double*);
template LogisticResult logistic_regression<double>(const LogisticProblem<double>&,
                                                    const LogisticOptions&, double*, double*);

}  // namespace lkreg
