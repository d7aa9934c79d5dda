#include "lkreg/config.hpp"

#include <algorithm>
#include <atomic>

#include "thread_pool.hpp"

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
std::atomic<int> g_threads{detail::default_thread_count()};

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

const char* threading_runtime() { return "lkreg-pool"; }

int num_threads() { return g_threads.load(std::memory_order_relaxed); }

// Process-wide, as threadpoolctl expects of a library's limit: a kernel started on any Python
// thread afterwards uses it.
void set_num_threads(int n) {
  g_threads.store(std::max(1, std::min(n, kMaxThreads)), std::memory_order_relaxed);
}

}  // namespace lkreg

// For threadpoolctl's controller (lkreg/_config.py), which reads and sets limits through
// ctypes: plain C symbols, exported from the extension module.
extern "C" {
__attribute__((visibility("default"))) int lkreg_threadpool_get_num_threads() {
  return lkreg::num_threads();
}
__attribute__((visibility("default"))) void lkreg_threadpool_set_num_threads(int n) {
  lkreg::set_num_threads(n);
}
}
