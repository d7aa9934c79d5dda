// Runtime configuration shared by every kernel family: SIMD level and thread count.
#pragma once

#include <cstdint>

namespace lkreg {

enum class SimdLevel : int { baseline = 0, avx2 = 1, avx512 = 2 };

const char* simd_level_name(SimdLevel level);

// Best level this build carries and this CPU (and OS) can run.
SimdLevel simd_level_supported();
// Level the kernels use now; starts at simd_level_supported().
SimdLevel simd_level();
// Selects a level <= simd_level_supported(); returns false (and changes nothing) otherwise.
bool set_simd_level(SimdLevel level);
// True when the build carries per-ISA kernels (x86-64 dispatch); false for portable or
// -march=native builds, which carry one "baseline" set compiled for their target.
bool simd_dispatch_enabled();
bool native_build();

bool openmp_enabled();
// Threads a kernel may use on the calling thread: the lkreg setting if one was made, capped by
// OpenMP's own limit for this thread (so threadpoolctl and OMP_NUM_THREADS still apply).
int num_threads();
// n >= 1. Also sets OpenMP's limit for the calling thread.
void set_num_threads(int n);

}  // namespace lkreg
