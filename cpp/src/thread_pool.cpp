// The thread pool behind run_chunks (see thread_pool.hpp for the why).
//
// The chunks of a job are split into one contiguous part per participant (the caller is part
// 0, worker w is part w): each takes the chunks of its own part first, so repeated calls on an
// array that fits in cache find each half in the cache of the core that touched it last, as a
// static split would; then it takes what is left of the other parts.
//
// A job lives in one of two slots, chosen by the parity of its generation. Each part's counter
// packs the generation and the part's next unclaimed chunk into one word, so a claim is one
// compare-and-swap that fails for a worker holding a finished job's generation: a worker that
// slept through a whole job can never run a chunk of the next one with the old job's function.
// A slot is rewritten only two generations later, when no claim on it can succeed any more.
#include "thread_pool.hpp"

#include "lkreg/config.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <ctime>
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
// waits for the OS to run it again (a scheduler slice: milliseconds); and a woken worker can be
// run on the caller's own core, ahead of it. When the caller's wait at the end of a job is that
// long (longer than kStallChunks of its own chunks, and at least kStallMin), or after waking a
// worker it spent over a quarter of the job off its core, jobs run on the caller alone for
// kStallBackoff times that: whatever the machine is doing, stalls then cost at most about
// 1/kStallBackoff of the time.
constexpr double kStallChunks = 4.0;
constexpr auto kStallMin = std::chrono::microseconds(10);
constexpr int kStallBackoff = 100;
constexpr auto kStallBackoffMax = std::chrono::seconds(1);

using Clock = std::chrono::steady_clock;
// A job that starts this soon after the previous one ended wakes sleeping workers whatever its
// size (see Pool::run).
constexpr auto kBackToBack = std::chrono::microseconds(20);

// CPU time of the calling thread (a system call: used only for large jobs, see Pool::run).
inline std::int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

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

constexpr int kMaxParts = 1024;  // kMaxThreads in lkreg/config.hpp

struct alignas(64) PartCounter {
  std::atomic<std::uint64_t> word{0};  // generation << 32 | next unclaimed chunk of the part
};

struct JobSlot {
  std::atomic<ChunkFn> fn{nullptr};
  std::atomic<const void*> ctx{nullptr};
  std::atomic<std::int64_t> chunks{0};
  std::atomic<int> parts{1};
  std::atomic<int> seats{0};  // workers that may still join: the job's thread limit
  PartCounter next[kMaxParts];

  std::int64_t part_end(int part, std::int64_t chunks_, int parts_) const {
    return chunks_ * (part + 1) / parts_;
  }
};

class Pool {
 public:
  void run(std::int64_t chunks, int threads, ChunkFn fn, const void* ctx, bool wake_sleepers) {
    std::unique_lock<std::mutex> own(owner_, std::try_to_lock);
    if (!own.owns_lock()) {  // another thread's job, or a chunk of ours calling back in
      jobs_alone_.fetch_add(1, std::memory_order_relaxed);
      for (std::int64_t c = 0; c < chunks; ++c) fn(ctx, c);
      return;
    }
    // Calls back to back (an optimizer over many arrays, a solver's sweeps) wake workers even
    // for small jobs: the next calls then find them awake.
    const Clock::time_point start = Clock::now();
    const bool wake = wake_sleepers || start - last_end_ < kBackToBack;
    const int helpers = start_workers(static_cast<int>(std::min<std::int64_t>(threads - 1, chunks - 1)));
    if (helpers == 0 ||  // stopped at exit, or the OS refused threads
        (!wake && sleepers_.load(std::memory_order_relaxed) >= static_cast<int>(workers_.size()))) {
      jobs_alone_.fetch_add(1, std::memory_order_relaxed);
      for (std::int64_t c = 0; c < chunks; ++c) fn(ctx, c);
      last_end_ = Clock::now();
      return;
    }

    const std::uint32_t gen = gen_.load(std::memory_order_relaxed) + 1;
    JobSlot& slot = slots_[gen & 1];
    const int parts = helpers + 1;
    slot.fn.store(fn, std::memory_order_relaxed);
    slot.ctx.store(ctx, std::memory_order_relaxed);
    slot.chunks.store(chunks, std::memory_order_relaxed);
    slot.parts.store(parts, std::memory_order_relaxed);
    slot.seats.store(helpers, std::memory_order_relaxed);
    for (int p = 0; p < parts; ++p) {
      const std::int64_t begin = p == 0 ? 0 : slot.part_end(p - 1, chunks, parts);
      slot.next[p].word.store(static_cast<std::uint64_t>(gen) << 32 | static_cast<std::uint64_t>(begin),
                              std::memory_order_relaxed);
    }
    done_.store(0, std::memory_order_relaxed);
    jobs_shared_.fetch_add(1, std::memory_order_relaxed);
    gen_.store(gen, std::memory_order_seq_cst);  // publishes the slot (release)
    // Paired with the sleeper's increment-then-check (both seq_cst): either it sees the new
    // generation, or this sees it asleep and wakes it.
    const int asleep = sleepers_.load(std::memory_order_seq_cst);
    // Large jobs (those that may wake workers) also check how long the caller was off its core:
    // two system calls, under 1% of such a job.
    const bool check_cpu = wake_sleepers;
    const std::int64_t cpu_at_start = check_cpu ? thread_cpu_ns() : 0;
    if (asleep > 0 && wake) waiter_.wake(gen_, std::min(asleep, helpers));

    const std::int64_t mine = run_claimed(slot, gen, 0, chunks, parts, fn, ctx);
    // Every chunk is claimed; the ones not ours run on workers that are running now.
    const std::int64_t theirs = chunks - mine;
    const Clock::time_point own_done = Clock::now();
    for (int spins = 0; done_.load(std::memory_order_acquire) < theirs; ++spins) {
      if (spins < kCallerSpinsBeforeYield) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
    last_end_ = Clock::now();
    const Clock::duration waited = last_end_ - own_done;
    wait_ns_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(waited).count(),
                       std::memory_order_relaxed);
    // A stall: the caller waited long for a worker's chunk (mine == 0: the worker took every
    // chunk, the OS having run it on this core ahead of the caller, and still kept the caller
    // waiting). Or, in a large job, the caller spent much of it off its core: the OS ran a
    // worker on the caller's core, or other processes took it.
    Clock::duration stall = Clock::duration::zero();
    if (waited > kStallMin && (mine == 0 || waited > (own_done - start) * (kStallChunks / mine)))
      stall = waited;
    if (check_cpu) {
      const Clock::duration wall = last_end_ - start;
      const Clock::duration off_cpu =
          wall - std::chrono::duration_cast<Clock::duration>(
                     std::chrono::nanoseconds(thread_cpu_ns() - cpu_at_start));
      if (off_cpu > kStallMin && off_cpu * 4 > wall) stall = std::max(stall, off_cpu);
    }
    if (stall > Clock::duration::zero()) {
      stalls_.fetch_add(1, std::memory_order_relaxed);
      const Clock::duration backoff = std::min<Clock::duration>(stall * kStallBackoff, kStallBackoffMax);
      serial_until_.store((last_end_ + backoff).time_since_epoch().count(), std::memory_order_relaxed);
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
      for (int id = static_cast<int>(workers_.size()) + 1; id <= wanted; ++id)
        workers_.emplace_back([this, id, current] { worker_main(id, current); });
    } catch (const std::system_error&) {  // out of threads: run with those we have
    }
    return std::min(wanted, static_cast<int>(workers_.size()));
  }

  // Claims the next chunk of `part` of job `gen`; false when the part is done or the job is
  // not `gen` any more.
  static bool claim(JobSlot& slot, std::uint32_t gen, int part, std::int64_t chunks, int parts,
                    std::int64_t& chunk) {
    const std::int64_t end = slot.part_end(part, chunks, parts);
    std::atomic<std::uint64_t>& word = slot.next[part].word;
    std::uint64_t s = word.load(std::memory_order_acquire);
    for (;;) {
      if (static_cast<std::uint32_t>(s >> 32) != gen) return false;
      const std::int64_t next = static_cast<std::int64_t>(s & 0xffffffffu);
      if (next >= end) return false;
      if (word.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        chunk = next;
        return true;
      }
    }
  }

  // Runs chunks of job `gen`: those of part `home` first, then what is left of the others.
  // Returns how many it ran. `on_done` is called after each.
  template <class OnDone>
  static std::int64_t run_claimed(JobSlot& slot, std::uint32_t gen, int home, std::int64_t chunks,
                                  int parts, ChunkFn fn, const void* ctx, OnDone on_done) {
    std::int64_t ran = 0;
    std::int64_t chunk = 0;
    for (int i = 0; i < parts; ++i) {
      const int part = (home + i) % parts;
      while (claim(slot, gen, part, chunks, parts, chunk)) {
        fn(ctx, chunk);
        on_done();
        ++ran;
      }
    }
    return ran;
  }
  static std::int64_t run_claimed(JobSlot& slot, std::uint32_t gen, int home, std::int64_t chunks,
                                  int parts, ChunkFn fn, const void* ctx) {
    return run_claimed(slot, gen, home, chunks, parts, fn, ctx, [] {});
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

  void worker_main(int id, std::uint32_t seen) {
    for (;;) {
      seen = wait_for_job(seen);
      if (stop_.load(std::memory_order_acquire)) return;
      const std::uint32_t gen = seen;
      JobSlot& slot = slots_[gen & 1];
      if (slot.seats.fetch_sub(1, std::memory_order_relaxed) <= 0) continue;
      const ChunkFn fn = slot.fn.load(std::memory_order_relaxed);
      const void* ctx = slot.ctx.load(std::memory_order_relaxed);
      const std::int64_t chunks = slot.chunks.load(std::memory_order_relaxed);
      const int parts = std::max(1, std::min(slot.parts.load(std::memory_order_relaxed), kMaxParts));
      // Claims fail at once if the slot was reused meanwhile (another generation).
      run_claimed(slot, gen, id % parts, chunks, parts, fn, ctx,
                  [this] {
                    worker_chunks_.fetch_add(1, std::memory_order_relaxed);
                    done_.fetch_add(1, std::memory_order_release);
                  });
    }
  }

  std::mutex owner_;  // held by the caller whose job runs; others run serially
  std::atomic<std::uint32_t> gen_{0};  // the latest job's generation; publishes its slot
  JobSlot slots_[2];
  std::atomic<std::int64_t> done_{0};  // chunks the workers finished in this job
  std::atomic<int> sleepers_{0};
  std::atomic<Clock::rep> serial_until_{0};

 public:
  std::atomic<std::int64_t> jobs_shared_{0}, jobs_alone_{0}, stalls_{0}, wait_ns_{0},
      worker_chunks_{0};

 private:
  std::atomic<bool> stop_{false};
  WordWaiter waiter_;
  std::vector<std::thread> workers_;  // under owner_
  Clock::time_point last_end_{};      // under owner_: when the latest job ended
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
    pool->jobs_alone_.fetch_add(1, std::memory_order_relaxed);
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

namespace lkreg {
ThreadPoolStats thread_pool_stats() {
  const detail::Pool& p = *detail::g_pool.load(std::memory_order_relaxed);
  return {p.jobs_shared_.load(), p.jobs_alone_.load(), p.stalls_.load(), p.wait_ns_.load(),
          p.worker_chunks_.load()};
}
}  // namespace lkreg
