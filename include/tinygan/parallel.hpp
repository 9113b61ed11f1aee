// set_num_threads(n): n - 1 worker threads help the calling thread with the big products and the
// optimizer's update of a training step, with the same numbers at any thread count (the pool and
// how it splits work are in detail/worker_pool.hpp).
#pragma once

#include "config.hpp"
#include "detail/worker_pool.hpp"
#include "error.hpp"

#include <algorithm>

namespace tinygan {

// Threads used by training steps (1 = only the calling thread), like torch.set_num_threads, but
// never more than the CPUs this process may use: more threads than cores only wait for each
// other. Returns the number it took, so a program can say when that is fewer than asked.
inline int set_num_threads(int threads) {
    if (threads < 1 || threads > 256)
        throw ArgumentError(detail::concat("set_num_threads needs 1 to 256 threads, got ", threads));
    Eigen::initParallel();
    const int taken = std::min(threads, detail::available_cpus());
    detail::WorkerPool::instance().resize(taken);
    return taken;
}

inline int num_threads() { return detail::WorkerPool::instance().threads(); }

}  // namespace tinygan
