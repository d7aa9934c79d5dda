// Runtime SIMD dispatch. Each file listed in LKREG_SIMD_SOURCES is compiled once per level with
// LKREG_ISA set to the level's name, so its kernels land in lkreg::baseline, lkreg::avx2 and
// lkreg::avx512. Everything those files define must stay inside that namespace (or be inlined
// builtins): an out-of-line function shared between levels could be merged by the linker into
// the AVX-512 copy and run on a CPU without AVX-512.
#pragma once

#include "lkreg/config.hpp"

#if defined(LKREG_X86_DISPATCH)
#define LKREG_FOR_EACH_ISA(X) X(baseline) X(avx2) X(avx512)
// The function (or function template instance) `name` of the level in use.
#define LKREG_SELECT(name)                                               \
  (::lkreg::simd_level() == ::lkreg::SimdLevel::avx512 ? &::lkreg::avx512::name \
   : ::lkreg::simd_level() == ::lkreg::SimdLevel::avx2 ? &::lkreg::avx2::name   \
                                                       : &::lkreg::baseline::name)
#else
#define LKREG_FOR_EACH_ISA(X) X(baseline)
#define LKREG_SELECT(name) (&::lkreg::baseline::name)
#endif
