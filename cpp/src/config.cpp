#include "lkreg/config.hpp"

#include <algorithm>
#include <atomic>

#if defined(_OPENMP)
#include <omp.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define LKREG_HAVE_ATFORK 1
#endif

namespace lkreg {
namespace {

SimdLevel detect_simd_level() {
#if defined(LKREG_X86_DISPATCH)
  // libgcc's checks include the OS's XSAVE support for the wider registers.
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl");
  if (avx512) return SimdLevel::avx512;
  if (avx2) return SimdLevel::avx2;
#endif
  return SimdLevel::baseline;
}

const SimdLevel g_supported = detect_simd_level();
std::atomic<int> g_active{static_cast<int>(g_supported)};
std::atomic<int> g_threads{0};  // 0: OpenMP's own limit

// GNU OpenMP's thread pool does not survive fork(): a child that enters a parallel region waits
// forever for threads that were not copied. So a forked child runs every kernel on its own
// thread, without entering OpenMP at all.
std::atomic<bool> g_forked_child{false};
#if defined(LKREG_HAVE_ATFORK)
void mark_forked_child() { g_forked_child.store(true, std::memory_order_relaxed); }
const int g_atfork_registered = pthread_atfork(nullptr, nullptr, &mark_forked_child);
#endif

}  // namespace

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::avx2:
      return "avx2";
    case SimdLevel::avx512:
      return "avx512";
    case SimdLevel::baseline:
      break;
  }
  return "baseline";
}

SimdLevel simd_level_supported() { return g_supported; }

SimdLevel simd_level() { return static_cast<SimdLevel>(g_active.load(std::memory_order_relaxed)); }

bool set_simd_level(SimdLevel level) {
  if (static_cast<int>(level) < 0 || static_cast<int>(level) > static_cast<int>(g_supported))
    return false;
  g_active.store(static_cast<int>(level), std::memory_order_relaxed);
  return true;
}

bool simd_dispatch_enabled() {
#if defined(LKREG_X86_DISPATCH)
  return true;
#else
  return false;
#endif
}

bool native_build() {
#if defined(LKREG_NATIVE_BUILD)
  return true;
#else
  return false;
#endif
}

bool openmp_enabled() {
#if defined(_OPENMP)
  return true;
#else
  return false;
#endif
}

int num_threads() {
#if defined(_OPENMP)
  if (g_forked_child.load(std::memory_order_relaxed)) return 1;
  const int limit = omp_get_max_threads();
  const int chosen = g_threads.load(std::memory_order_relaxed);
  return chosen > 0 ? std::min(chosen, limit) : limit;
#else
  return 1;
#endif
}

// Process-wide. OpenMP's own per-thread limit (OMP_NUM_THREADS, threadpoolctl) caps it in
// num_threads(); setting that limit here would make it per Python thread and leak into other
// OpenMP libraries.
void set_num_threads(int n) { g_threads.store(n, std::memory_order_relaxed); }

}  // namespace lkreg
