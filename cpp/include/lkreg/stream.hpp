// Streaming loops that measure the memory-bandwidth floor kernels are compared against.
#pragma once

#include <cstdint>

namespace lkreg {

template <class T> void stream_copy(const T* x, T* y, std::int64_t n);   // y = x
template <class T> void stream_scale(T* x, T c, std::int64_t n);         // x *= c
template <class T> double stream_sum(const T* x, std::int64_t n);        // sum x

}  // namespace lkreg
