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

// Name of the threading runtime (show_config()).
const char* threading_runtime();
// Most threads a kernel may use, process-wide: starts at LKREG_NUM_THREADS, else
// OMP_NUM_THREADS, else the CPUs this process may run on.
int num_threads();
// Clamped to [1, kMaxThreads].
void set_num_threads(int n);
constexpr int kMaxThreads = 1024;

// The thread pool's counters since start-up (cpp/src/thread_pool.cpp), for benchmarks and for
// understanding a slow machine: parallel jobs shared with workers, parallel jobs run by the
// caller alone (no worker awake, backing off after a stall, or the pool busy with another
// thread's job), stalls, the total time callers waited at the ends of jobs, chunks run by
// workers.
struct ThreadPoolStats {
  std::int64_t jobs_shared, jobs_alone, stalls, wait_ns, worker_chunks;
};
ThreadPoolStats thread_pool_stats();

}  // namespace lkreg
