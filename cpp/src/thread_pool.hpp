// lkreg's threading runtime: a small pool of std::threads that share chunked jobs.
//
// Why not OpenMP: GNU OpenMP's team spins after a region and waits at its closing barrier for
// every member, including one the OS has not scheduled yet. Between NumPy BLAS calls (whose
// own threads spin on the same cores) or beside a busy process, that barrier costs a scheduler
// slice (milliseconds) per call. Here a job is a count of chunks that the caller and the
// workers claim one at a time from an atomic counter: a late worker finds nothing left and the
// caller has simply done more of the work. The caller waits only for chunks a worker has
// already claimed, i.e. for threads that are running. Idle workers spin briefly, then sleep.
// docs/architecture.md ("Threading runtime") gives the measurements behind the choice.
#pragma once

#include <cstdint>

namespace lkreg::detail {

// One chunk of a job: fn(ctx, chunk) with chunk in [0, chunks). Must not throw.
using ChunkFn = void (*)(const void* ctx, std::int64_t chunk);

// Runs fn(ctx, c) for every c in [0, chunks), each exactly once, on the calling thread and up
// to `threads - 1` pool workers; returns when all have run. With threads <= 1, inside a worker
// or while another thread runs a job, it runs every chunk on the calling thread (it never
// waits for the pool). Workers start at the first parallel job, not at load; a child made by
// fork() starts a pool of its own. chunks must be below 2**31.
//
// wake_sleepers: whether workers that went to sleep are woken for this job. Waking one costs
// the caller a system call, and the OS may take longer to run it than a small job lasts (or
// run it on the caller's own core first), so small jobs use only workers still awake from a
// recent job.
void run_chunks(std::int64_t chunks, int threads, ChunkFn fn, const void* ctx, bool wake_sleepers);

// The thread limit when nothing sets one: LKREG_NUM_THREADS, else the first number of
// OMP_NUM_THREADS, else the CPUs this process may run on (its affinity mask), read at load.
int default_thread_count();

}  // namespace lkreg::detail
