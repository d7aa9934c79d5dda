// The thread pool behind run_chunks (see thread_pool.hpp for the why).
//
// A job lives in one of two slots, chosen by the parity of its generation. state_ packs the
// generation and the next unclaimed chunk into one word, so a claim is one compare-and-swap
// that fails for a worker holding a finished job's generation: a worker that slept through a
// whole job can never run a chunk of the next one with the old job's function. A slot is
// rewritten only two generations later, when no claim on it can succeed any more.
#include "thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define LKREG_HAVE_ATFORK 1
#endif
#if defined(__linux__)
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace lkreg::detail {
namespace {

// An idle worker watches for the next job this long before it sleeps. Kernels called in a
// loop (an optimizer step per array, a solver's sweeps) then find their workers awake, and a
// worker still spinning beside NumPy's BLAS threads costs them at most this. Measured: see
// docs/architecture.md, "Threading runtime".
constexpr auto kWorkerSpin = std::chrono::microseconds(200);
// The caller waits for chunks that running workers claimed: spin first (a chunk takes
// microseconds), then yield the core to whoever the OS prefers.
constexpr int kCallerSpinsBeforeYield = 1 << 12;
// A worker can be preempted by another process while it holds a chunk, and then the caller
// waits for the OS to run it again (a scheduler slice: milliseconds). When the caller's wait at
// the end of a job is that long (longer than kStallChunks of its own chunks, and at least
// kStallMin), jobs run on the caller alone for kStallBackoff times the wait: whatever the
// machine is doing, stalls then cost at most about 1/kStallBackoff of the time.
constexpr double kStallChunks = 4.0;
constexpr auto kStallMin = std::chrono::microseconds(30);
constexpr int kStallBackoff = 100;
constexpr auto kStallBackoffMax = std::chrono::seconds(1);

using Clock = std::chrono::steady_clock;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// Sleeping on a 32-bit word until it changes. Linux: a futex, whose wake returns at once. (A
// glibc condition variable's signal can wait for earlier-woken threads to leave its group,
// which made a caller wait tens of microseconds for a sleeping worker: measured, see
// docs/architecture.md.) Elsewhere a condition variable, woken for everyone.
class WordWaiter {
 public:
#if defined(__linux__)
  void wait(std::atomic<std::uint32_t>& word, std::uint32_t seen) {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, seen, nullptr,
            nullptr, 0);
  }
  void wake(std::atomic<std::uint32_t>& word, int count) {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count, nullptr,
            nullptr, 0);
  }
#else
  void wait(std::atomic<std::uint32_t>& word, std::uint32_t seen) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (word.load(std::memory_order_seq_cst) == seen) cv_.wait(lock);
  }
  void wake(std::atomic<std::uint32_t>&, int) {
    { std::lock_guard<std::mutex> lock(mutex_); }
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
#endif
};

struct JobSlot {
  std::atomic<ChunkFn> fn{nullptr};
  std::atomic<const void*> ctx{nullptr};
  std::atomic<std::int64_t> chunks{0};
  std::atomic<int> seats{0};  // workers that may still join: the job's thread limit
};

class Pool {
 public:
  void run(std::int64_t chunks, int threads, ChunkFn fn, const void* ctx, bool wake_sleepers) {
    std::unique_lock<std::mutex> own(owner_, std::try_to_lock);
    if (!own.owns_lock()) {  // another thread's job, or a chunk of ours calling back in
      for (std::int64_t c = 0; c < chunks; ++c) fn(ctx, c);
      return;
    }
    const int helpers = start_workers(static_cast<int>(std::min<std::int64_t>(threads - 1, chunks - 1)));
    if (helpers == 0) {  // stopped at exit, or the OS refused threads
      for (std::int64_t c = 0; c < chunks; ++c) fn(ctx, c);
      return;
    }

    const std::uint32_t gen = static_cast<std::uint32_t>(state_.load(std::memory_order_relaxed) >> 32) + 1;
    JobSlot& slot = slots_[gen & 1];
    slot.fn.store(fn, std::memory_order_relaxed);
    slot.ctx.store(ctx, std::memory_order_relaxed);
    slot.chunks.store(chunks, std::memory_order_relaxed);
    slot.seats.store(helpers, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    state_.store(static_cast<std::uint64_t>(gen) << 32, std::memory_order_release);
    gen_.store(gen, std::memory_order_seq_cst);
    // Paired with the sleeper's increment-then-check (both seq_cst): either it sees the new
    // generation, or this sees it asleep and wakes it.
    const int asleep = sleepers_.load(std::memory_order_seq_cst);
    if (asleep > 0 && wake_sleepers) waiter_.wake(gen_, std::min(asleep, helpers));

    const Clock::time_point start = Clock::now();
    std::int64_t mine = 0;
    std::int64_t chunk = 0;
    while (claim(gen, chunks, chunk)) {
      fn(ctx, chunk);
      ++mine;
    }
    // Every chunk is claimed; the ones not ours run on workers that are running now.
    const std::int64_t theirs = chunks - mine;
    if (done_.load(std::memory_order_acquire) >= theirs) return;
    const Clock::time_point own_done = Clock::now();
    for (int spins = 0; done_.load(std::memory_order_acquire) < theirs; ++spins) {
      if (spins < kCallerSpinsBeforeYield) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
    const Clock::duration waited = Clock::now() - own_done;
    if (mine > 0 && waited > kStallMin && waited > (own_done - start) * (kStallChunks / mine)) {
      const Clock::duration backoff = std::min<Clock::duration>(waited * kStallBackoff, kStallBackoffMax);
      serial_until_.store((Clock::now() + backoff).time_since_epoch().count(),
                          std::memory_order_relaxed);
    }
  }

  // After a stall (see kStallBackoff), jobs run on the caller alone until this time.
  bool backing_off() const {
    return Clock::now().time_since_epoch().count() < serial_until_.load(std::memory_order_relaxed);
  }

  void shutdown() {
    std::lock_guard<std::mutex> own(owner_);
    stop_.store(true, std::memory_order_seq_cst);
    gen_.fetch_add(1, std::memory_order_seq_cst);  // a sleeper's word changes: it wakes
    waiter_.wake(gen_, 1 << 30);
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

 private:
  // Under owner_. Returns how many workers can help, at most `wanted`.
  int start_workers(int wanted) {
    if (stop_.load(std::memory_order_relaxed)) return 0;
    const std::uint32_t current = gen_.load(std::memory_order_relaxed);
    try {
      while (static_cast<int>(workers_.size()) < wanted)
        workers_.emplace_back([this, current] { worker_main(current); });
    } catch (const std::system_error&) {  // out of threads: run with those we have
    }
    return std::min(wanted, static_cast<int>(workers_.size()));
  }

  bool claim(std::uint32_t gen, std::int64_t chunks, std::int64_t& chunk) {
    std::uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if (static_cast<std::uint32_t>(s >> 32) != gen) return false;
      const std::int64_t next = static_cast<std::int64_t>(s & 0xffffffffu);
      if (next >= chunks) return false;
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
        chunk = next;
        return true;
      }
    }
  }

  // Returns the generation after `seen`, or `seen` itself when the pool stops.
  std::uint32_t wait_for_job(std::uint32_t seen) {
    const auto deadline = Clock::now() + kWorkerSpin;
    for (;;) {
      for (int i = 0; i < 16; ++i) {
        if (gen_.load(std::memory_order_acquire) != seen || stop_.load(std::memory_order_relaxed))
          return gen_.load(std::memory_order_acquire);
        cpu_relax();
      }
      // A polite spin: it gives the core to any thread that wants it (the caller itself, when
      // the OS woke this worker on its core; BLAS threads; other processes) and costs only
      // cycles nobody else wanted.
      std::this_thread::yield();
      if (Clock::now() > deadline) break;
    }
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    while (gen_.load(std::memory_order_seq_cst) == seen && !stop_.load(std::memory_order_seq_cst))
      waiter_.wait(gen_, seen);
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
    return gen_.load(std::memory_order_acquire);
  }

  void worker_main(std::uint32_t seen) {
    for (;;) {
      seen = wait_for_job(seen);
      if (stop_.load(std::memory_order_acquire)) return;
      const std::uint64_t s = state_.load(std::memory_order_acquire);
      const std::uint32_t gen = static_cast<std::uint32_t>(s >> 32);
      JobSlot& slot = slots_[gen & 1];
      if (slot.seats.fetch_sub(1, std::memory_order_relaxed) <= 0) continue;
      const ChunkFn fn = slot.fn.load(std::memory_order_relaxed);
      const void* ctx = slot.ctx.load(std::memory_order_relaxed);
      const std::int64_t chunks = slot.chunks.load(std::memory_order_relaxed);
      std::int64_t chunk = 0;
      while (claim(gen, chunks, chunk)) {  // fails at once if the slot was reused meanwhile
        fn(ctx, chunk);
        done_.fetch_add(1, std::memory_order_release);
      }
    }
  }

  std::mutex owner_;  // held by the caller whose job runs; others run serially
  std::atomic<std::uint64_t> state_{0};  // generation << 32 | next unclaimed chunk
  std::atomic<std::uint32_t> gen_{0};    // the generation, published after state_
  JobSlot slots_[2];
  std::atomic<std::int64_t> done_{0};  // chunks the workers finished in this job
  std::atomic<int> sleepers_{0};
  std::atomic<Clock::rep> serial_until_{0};
  std::atomic<bool> stop_{false};
  WordWaiter waiter_;
  std::vector<std::thread> workers_;  // under owner_
};

// The process's pool. Never freed while the process runs: a worker may touch it until the
// destructor below has joined them all.
std::atomic<Pool*> g_pool{new Pool};

// Joins the workers at exit (after Python has finalized), so no thread outlives the library.
struct PoolShutdown {
  ~PoolShutdown() { g_pool.load()->shutdown(); }
} g_pool_shutdown;

#if defined(LKREG_HAVE_ATFORK)
// The child has the parent's memory but none of its workers, possibly with the pool's mutexes
// held by threads that do not exist there: abandon that pool (its std::thread objects must not
// be destroyed) and start a fresh one.
void start_fresh_pool_in_child() { g_pool.store(new Pool, std::memory_order_relaxed); }
const int g_atfork_registered = pthread_atfork(nullptr, nullptr, &start_fresh_pool_in_child);
#endif

int parse_thread_count(const char* text) {
  if (text == nullptr) return 0;
  char* end = nullptr;
  const long n = std::strtol(text, &end, 10);  // "4,2" (nested OpenMP levels): the first
  if (end == text || n < 1) return 0;
  return static_cast<int>(std::min<long>(n, 1 << 16));
}

int cpus_available() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

void run_chunks(std::int64_t chunks, int threads, ChunkFn fn, const void* ctx,
                bool wake_sleepers) {
  if (chunks <= 0) return;
  if (threads <= 1 || chunks == 1) {
    for (std::int64_t c = 0; c < chunks; ++c) fn(ctx, c);
    return;
  }
  Pool* pool = g_pool.load(std::memory_order_relaxed);
  if (pool->backing_off()) {
    for (std::int64_t c = 0; c < chunks; ++c) fn(ctx, c);
    return;
  }
  pool->run(chunks, threads, fn, ctx, wake_sleepers);
}

int default_thread_count() {
  static const int count = [] {
    if (const int n = parse_thread_count(std::getenv("LKREG_NUM_THREADS"))) return n;
    if (const int n = parse_thread_count(std::getenv("OMP_NUM_THREADS"))) return n;
    return cpus_available();
  }();
  return count;
}

}  // namespace lkreg::detail
