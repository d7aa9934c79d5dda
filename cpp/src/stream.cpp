#include "lkreg/stream.hpp"

#include "parallel.hpp"
#include "stream_kernels.hpp"

namespace lkreg {

template <class T>
void stream_copy(const T* x, T* y, std::int64_t n) {
  const auto kernel = LKREG_SELECT(stream_copy_kernel<T>);
  detail::parallel_chunks(n, detail::kParallelMinStreaming,
                          [&](std::int64_t b, std::int64_t e) { kernel(x + b, y + b, e - b); });
}

template <class T>
void stream_scale(T* x, T c, std::int64_t n) {
  const auto kernel = LKREG_SELECT(stream_scale_kernel<T>);
  detail::parallel_chunks(n, detail::kParallelMinStreaming,
                          [&](std::int64_t b, std::int64_t e) { kernel(x + b, c, e - b); });
}

template <class T>
double stream_sum(const T* x, std::int64_t n) {
  const auto kernel = LKREG_SELECT(stream_sum_kernel<T>);
  return detail::blocked_sum(n, detail::kParallelMinStreaming,
                             [&](std::int64_t b, std::int64_t e) { return kernel(x + b, e - b); });
}

#define LKREG_INSTANTIATE(T)                                  \
  template void stream_copy<T>(const T*, T*, std::int64_t);   \
  template void stream_scale<T>(T*, T, std::int64_t);         \
  template double stream_sum<T>(const T*, std::int64_t);
LKREG_INSTANTIATE(float)
LKREG_INSTANTIATE(double)
#undef LKREG_INSTANTIATE

}  // namespace lkreg
