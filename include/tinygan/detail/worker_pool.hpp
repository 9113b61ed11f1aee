// The worker pool behind set_num_threads (parallel.hpp) and parallel_for, which layers use to split
// their products and the optimizer its update.
//
// tinygan's own threads: set_num_threads(n) starts n - 1 workers that help the calling thread with
// the big products and the optimizer's update of a training step. A split is cut into parts at
// fixed boundaries (product tiles, Adam chunks); the caller and the workers claim parts from a
// shared counter, so whoever is free computes the next part. A run's numbers therefore do not
// depend on the thread count, nor on which thread computed what: every element is computed by the
// same code over the same part.
//
// Made for busy machines as much as quiet ones: a worker spins only briefly (about 50 us) for the
// next task, then sleeps; and the caller never waits for a worker that has not started, it takes
// the remaining parts itself. So a worker that the OS has descheduled costs at most the part it
// holds, not a whole time slice per hand-off; and when the caller finds it keeps waiting on its
// worker (another process shares that core), it runs the splits inline for a while (SplitBackoff).
// Use from one training thread at a time, and not from inside a part.
#pragma once

#include "../config.hpp"
#include "../denormals.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__SSE2__)
#include <xmmintrin.h>  // _mm_pause; not <immintrin.h>, every intrinsic, 0.7 s of each file's compile
#define TINYGAN_SPIN_PAUSE() _mm_pause()
#else
#define TINYGAN_SPIN_PAUSE() ((void)0)
#endif

#if defined(__linux__)
#include <sched.h>
#endif

namespace tinygan::detail {

// When the pool stops splitting for a while. After a split in which the caller waited for a worker
// longer than it took to do its own share (plus 20 us of slack), the worker is being held off its
// core: run the next splits inline, 128 of them (a few training steps) at first, twice as many
// after each further slow split, up to 8192 (about half a second of training), then split again.
// The level comes down one notch per 64 fast splits in a row, so a worker that gets its core only
// now and then (another process shares it) keeps the pool backed off, while a quiet machine, where
// waits are a few microseconds, never backs off at all.
class SplitBackoff {
public:
    using Duration = std::chrono::steady_clock::duration;
    static constexpr std::uint32_t max_level = 7;  // 64 << 7 = 8192 inline splits

    // After each split: how long the caller waited for the workers, and how long its own parts took.
    void note_wait(Duration waited, Duration own_work) {
        if (!enabled_) return;
        if (waited > own_work + std::chrono::microseconds(20)) {
            level_ = std::min(level_ + 1, max_level);
            inline_splits_left_ = 64u << level_;
            fast_splits_in_a_row_ = 0;
        } else if (level_ > 0 && ++fast_splits_in_a_row_ == 64) {
            --level_;
            fast_splits_in_a_row_ = 0;
        }
    }
    // True when the next split should run inline (and counts it).
    bool run_inline() {
        if (inline_splits_left_ == 0) return false;
        --inline_splits_left_;
        return true;
    }
    void reset() { inline_splits_left_ = level_ = fast_splits_in_a_row_ = 0; }
    void set_enabled(bool on) {
        enabled_ = on;
        reset();
    }
    std::uint32_t level() const { return level_; }

private:
    std::uint32_t inline_splits_left_ = 0, level_ = 0, fast_splits_in_a_row_ = 0;
    bool enabled_ = true;
};

class WorkerPool {
public:
    using Task = void (*)(void* context, Index part);
    static constexpr Index max_parts = 0xffff;

    static WorkerPool& instance() {
        static WorkerPool pool;
        return pool;
    }

    int threads() const { return static_cast<int>(workers_.size()) + 1; }

    void resize(int threads) {
        stop_workers();
        stop_.store(false);
        backoff_.reset();
        // The generation a worker starts from is read here, not by the new thread: a task posted
        // before the thread first runs is then still new to it.
        const std::uint64_t start = claim_.load(std::memory_order_seq_cst) >> 32;
        for (int i = 1; i < threads; ++i) workers_.emplace_back([this, start] { work(start); });
    }

    // Runs task(context, part) for part = 0 .. parts-1 on the calling thread and the workers, and
    // returns when all are done. Workers run with the caller's floating-point mode (flush-to-zero).
    // An exception from any part is rethrown here, after every part has finished.
    void run(Task task, void* context, Index parts) {
        TINYGAN_ASSERT(!running_ && parts <= max_parts);
        if (workers_.empty() || parts <= 1) {
            for (Index part = 0; part < parts; ++part) task(context, part);
            return;
        }
        running_ = true;
        task_ = task;
        context_ = context;
        fp_mode_ = floating_point_mode();
        finished_.store(0, std::memory_order_relaxed);
        const std::uint64_t generation = ++generation_ & 0xffffffffu;
        claim_.store(generation << 32 | static_cast<std::uint64_t>(parts) << 16, std::memory_order_seq_cst);
        if (sleeping_.load(std::memory_order_seq_cst) > 0) {
            std::lock_guard<std::mutex> lock(mutex_);
            wake_.notify_all();
        }
        const auto started = Clock::now();
        run_parts(generation, false);
        const auto own_parts_done = Clock::now();
        // Parts a worker claimed and is still computing: spin a little, then give the CPU away
        // (on a busy machine the worker may be waiting for this very core).
        for (int spins = 0; finished_.load(std::memory_order_acquire) != parts; ++spins) {
            if (spins < 2000)
                TINYGAN_SPIN_PAUSE();
            else
                std::this_thread::yield();
        }
        backoff_.note_wait(Clock::now() - own_parts_done, own_parts_done - started);
        running_ = false;
        std::exception_ptr error;
        std::swap(error, error_);
        if (error) std::rethrow_exception(error);
    }

    // True while the pool has found its workers too slow to be worth waiting for (another
    // process has their cores); parallel_for then runs inline for a while and tries again.
    bool backing_off() { return backoff_.run_inline(); }

    // How many parts worker threads have computed since the pool started: a test can see that a
    // split really happened.
    std::uint64_t parts_run_by_workers() const { return parts_run_by_workers_.load(std::memory_order_relaxed); }

    // Whether slow hand-offs make the pool run splits inline for a while (on by default). Tests
    // that must see both threads at work turn it off: on a machine busy with other tests, one slow
    // hand-off would otherwise run the very splits they check on the calling thread alone.
    void set_backoff(bool on) { backoff_.set_enabled(on); }

    ~WorkerPool() { stop_workers(); }

private:
    using Clock = std::chrono::steady_clock;

    WorkerPool() = default;

    void stop_workers() {
        {
            std::lock_guard<std::mutex> lock(mutex_);  // under the lock: a worker about to sleep sees it
            stop_.store(true);
        }
        wake_.notify_all();
        for (auto& worker : workers_) worker.join();
        workers_.clear();
    }

    // Claims parts of `generation` one at a time and runs them, until none is left. The claim word
    // holds the generation, the part count and the next part, so a late worker can never take a
    // part of a newer task for an older one.
    void run_parts(std::uint64_t generation, bool on_worker) {
        for (;;) {
            std::uint64_t claim = claim_.load(std::memory_order_acquire);
            Index part = 0;
            do {
                const auto parts = static_cast<Index>((claim >> 16) & 0xffff);
                part = static_cast<Index>(claim & 0xffff);
                if ((claim >> 32) != generation || part >= parts) return;
            } while (!claim_.compare_exchange_weak(claim, claim + 1, std::memory_order_acq_rel));
            // The caller waits for this part, so the task and its context stay valid until it ends.
            const unsigned saved_mode = floating_point_mode();
            if (on_worker) set_floating_point_mode(fp_mode_);
            try {
                task_(context_, part);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!error_) error_ = std::current_exception();
            }
            if (on_worker) {
                set_floating_point_mode(saved_mode);
                parts_run_by_workers_.fetch_add(1, std::memory_order_relaxed);
            }
            finished_.fetch_add(1, std::memory_order_acq_rel);
        }
    }

    bool has_new_task(std::uint64_t seen) const { return (claim_.load(std::memory_order_seq_cst) >> 32) != seen; }

    void work(std::uint64_t seen) {
        for (;;) {
            // Spin for the next task for a short while (a training step posts one every few
            // microseconds), then sleep until run() wakes us.
            const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
            for (int spin = 0; !has_new_task(seen) && !stop_.load(std::memory_order_relaxed); ++spin) {
                TINYGAN_SPIN_PAUSE();
                if (spin % 64 == 63 && std::chrono::steady_clock::now() > spin_until) break;
            }
            if (!has_new_task(seen)) {
                std::unique_lock<std::mutex> lock(mutex_);
                sleeping_.fetch_add(1, std::memory_order_seq_cst);
                wake_.wait(lock, [&] { return stop_.load() || has_new_task(seen); });
                sleeping_.fetch_sub(1, std::memory_order_seq_cst);
                if (stop_) return;
            }
            if (stop_.load()) return;
            seen = claim_.load(std::memory_order_acquire) >> 32;
            run_parts(seen, true);
        }
    }

    std::vector<std::thread> workers_;
    // Each on its own cache line: the caller polls finished_ while a worker claims and counts.
    alignas(64) std::atomic<std::uint64_t> claim_{0};  // generation << 32 | parts << 16 | next part
    alignas(64) std::atomic<Index> finished_{0};
    alignas(64) std::atomic<int> sleeping_{0};
    alignas(64) std::atomic<std::uint64_t> parts_run_by_workers_{0};
    std::mutex mutex_;
    std::condition_variable wake_;
    std::exception_ptr error_;  // the first exception a part threw, rethrown by run()
    Task task_ = nullptr;
    void* context_ = nullptr;
    std::uint64_t generation_ = 0;
    SplitBackoff backoff_;
    unsigned fp_mode_ = 0;
    std::atomic<bool> stop_{false};  // set under mutex_
    bool running_ = false;
};

// Splits [0, size) into parts whose boundaries are multiples of `grain`, and calls f(begin, end)
// for each, on whichever thread claims it. Runs inline when `work` (a FLOP estimate) is too small
// to be worth a split.
template <class F>
void parallel_for(Index size, Index grain, double work, F&& f) {
    WorkerPool& pool = WorkerPool::instance();
    const int threads = pool.threads();
    constexpr double min_work_per_split = 2e5;
    if (threads == 1 || size < 2 * grain || work < min_work_per_split || pool.backing_off()) {
        f(Index(0), size);
        return;
    }
    // Two parts per thread, so that a thread the OS delays holds back less of the work.
    const Index units = (size + grain - 1) / grain;
    const Index parts = std::min<Index>({units, Index(2) * threads, WorkerPool::max_parts});
    struct Context {
        F* f;
        Index size, grain, units, parts;
    } context{&f, size, grain, units, parts};
    pool.run(
        [](void* raw, Index part) {
            const auto& c = *static_cast<Context*>(raw);
            const Index begin = std::min(c.size, c.units * part / c.parts * c.grain);
            const Index end = std::min(c.size, c.units * (part + 1) / c.parts * c.grain);
            if (begin < end) (*c.f)(begin, end);
        },
        &context, parts);
}

// The CPUs this process may run on (its affinity mask), at least 1.
inline int available_cpus() {
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
#endif
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace tinygan::detail
