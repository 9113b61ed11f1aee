// tinygan's own threads: set_num_threads(n) starts n - 1 workers that split the big products and
// the optimizer's update of a training step by rows with the calling thread. Eigen's OpenMP split
// gains little on products this small (and tinygan's programs are built without it); a persistent
// worker that spins briefly between tasks costs about a microsecond per split instead.
//
// A run's numbers do not depend on the thread count: every element is computed by the same code
// in the same order, whichever thread computes it. Use from one training thread at a time.
#pragma once

#include "config.hpp"
#include "error.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__SSE2__)
#include <immintrin.h>
#define TINYGAN_SPIN_PAUSE() _mm_pause()
#define TINYGAN_GET_FP_MODE() _mm_getcsr()
#define TINYGAN_SET_FP_MODE(mode) _mm_setcsr(mode)
#else
#define TINYGAN_SPIN_PAUSE() ((void)0)
#define TINYGAN_GET_FP_MODE() 0u
#define TINYGAN_SET_FP_MODE(mode) ((void)(mode))
#endif

namespace tinygan {
namespace detail {

class WorkerPool {
public:
    using Task = void (*)(void* context, Index part);

    static WorkerPool& instance() {
        static WorkerPool pool;
        return pool;
    }

    int threads() const { return static_cast<int>(workers_.size()) + 1; }

    void resize(int threads) {
        if (threads < 1 || threads > 256)
            throw ArgumentError(detail::concat("set_num_threads needs 1 to 256 threads, got ", threads));
        stop_workers();
        stop_ = false;
        // The generation a worker starts from is read here, before any task can be posted: read
        // by the worker itself, a task posted before the thread first ran would be missed.
        const std::uint64_t start = generation_.load(std::memory_order_seq_cst);
        for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i, start] { work(i, start); });
    }

    // Runs task(context, part) for part = 0 .. threads()-1, part 0 on the calling thread; returns
    // when all are done. Workers run with the caller's floating-point mode (flush-to-zero).
    void run(Task task, void* context) {
        TINYGAN_ASSERT(!running_);
        if (workers_.empty()) {
            task(context, 0);
            return;
        }
        running_ = true;
        task_ = task;
        context_ = context;
        fp_mode_ = TINYGAN_GET_FP_MODE();
        done_.store(0, std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_seq_cst);
        if (sleeping_.load(std::memory_order_seq_cst) > 0) {
            std::lock_guard<std::mutex> lock(mutex_);
            wake_.notify_all();
        }
        std::exception_ptr error;
        try {
            task(context, 0);
        } catch (...) {
            error = std::current_exception();  // the workers still use `context`: wait for them first
        }
        const int others = static_cast<int>(workers_.size());
        while (done_.load(std::memory_order_acquire) != others) TINYGAN_SPIN_PAUSE();
        running_ = false;
        if (!error) std::swap(error, worker_error_);
        worker_error_ = nullptr;
        if (error) std::rethrow_exception(error);
    }

    ~WorkerPool() { stop_workers(); }

private:
    WorkerPool() = default;

    void stop_workers() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
            generation_.fetch_add(1, std::memory_order_seq_cst);
        }
        wake_.notify_all();
        for (auto& worker : workers_) worker.join();
        workers_.clear();
    }

    void work(int part, std::uint64_t seen) {
        for (;;) {
            // Spin for a while (a training step posts a task every few microseconds), then sleep.
            for (int spin = 0; spin < 200000 && generation_.load(std::memory_order_acquire) == seen; ++spin)
                TINYGAN_SPIN_PAUSE();
            if (generation_.load(std::memory_order_acquire) == seen) {
                std::unique_lock<std::mutex> lock(mutex_);
                sleeping_.fetch_add(1, std::memory_order_seq_cst);
                wake_.wait(lock, [&] { return generation_.load(std::memory_order_seq_cst) != seen; });
                sleeping_.fetch_sub(1, std::memory_order_seq_cst);
            }
            seen = generation_.load(std::memory_order_acquire);
            if (stop_) return;
            const unsigned saved_mode = TINYGAN_GET_FP_MODE();
            TINYGAN_SET_FP_MODE(fp_mode_);
            try {
                task_(context_, part);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!worker_error_) worker_error_ = std::current_exception();
            }
            TINYGAN_SET_FP_MODE(saved_mode);
            done_.fetch_add(1, std::memory_order_release);
        }
    }

    std::vector<std::thread> workers_;
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<int> done_{0}, sleeping_{0};
    std::mutex mutex_;
    std::condition_variable wake_;
    std::exception_ptr worker_error_;  // the first exception a worker's part threw, rethrown by run()
    Task task_ = nullptr;
    void* context_ = nullptr;
    unsigned fp_mode_ = 0;
    bool stop_ = false;
    bool running_ = false;
};

// Splits [0, size) into one contiguous range per thread, boundaries on multiples of `grain`, and
// calls f(begin, end) for each non-empty range. Runs inline when `work` (a FLOP estimate) is too
// small to be worth a split.
template <class F>
void parallel_for(Index size, Index grain, double work, F&& f) {
    WorkerPool& pool = WorkerPool::instance();
    const int threads = pool.threads();
    constexpr double min_work_per_split = 2e5;
    if (threads == 1 || size < 2 * grain || work < min_work_per_split) {
        f(Index(0), size);
        return;
    }
    struct Context {
        F* f;
        Index size, grain;
        int threads;
    } context{&f, size, grain, threads};
    pool.run(
        [](void* raw, Index part) {
            const auto& c = *static_cast<Context*>(raw);
            const Index units = (c.size + c.grain - 1) / c.grain;
            const Index begin = std::min(c.size, units * part / c.threads * c.grain);
            const Index end = std::min(c.size, units * (part + 1) / c.threads * c.grain);
            if (begin < end) (*c.f)(begin, end);
        },
        &context);
}

}  // namespace detail

// Threads used by training steps (1 = only the calling thread). Like torch.set_num_threads.
inline void set_num_threads(int threads) {
    Eigen::initParallel();
    detail::WorkerPool::instance().resize(threads);
}

inline int num_threads() { return detail::WorkerPool::instance().threads(); }

}  // namespace tinygan
