// The plain loops whose speed is the floor for memory-bound kernels. Written like the kernels
// (the same compiler, flags and vector width), with no tricks the kernels do not use either.
#include "stream_kernels.hpp"

namespace lkreg::LKREG_ISA {

template <class T>
void stream_copy_kernel(const T* x, T* y, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) y[i] = x[i];
}

template <class T>
void stream_scale_kernel(T* x, T c, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) x[i] *= c;
}

template <class T>
double stream_sum_kernel(const T* x, std::int64_t n) {
  double acc = 0.0;
#pragma omp simd reduction(+ : acc)
  for (std::int64_t i = 0; i < n; ++i) acc += static_cast<double>(x[i]);
  return acc;
}

#define LKREG_INSTANTIATE(T)                                             \
  template void stream_copy_kernel<T>(const T*, T*, std::int64_t);       \
  template void stream_scale_kernel<T>(T*, T, std::int64_t);             \
  template double stream_sum_kernel<T>(const T*, std::int64_t);
LKREG_INSTANTIATE(float)
LKREG_INSTANTIATE(double)
#undef LKREG_INSTANTIATE

}  // namespace lkreg::LKREG_ISA
