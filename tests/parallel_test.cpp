// set_num_threads and parallel_for: every index once, the work really shared between threads,
// exceptions carried back to the caller, the thread count bounded by the CPUs available.
#include "test_support.hpp"

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

using namespace tinygan;

TEST_CASE("parallel_for covers every index once, at part boundaries that are multiples of the grain") {
    REQUIRE(set_num_threads(2) == 2);
    std::vector<int> hits(1000, 0);
    std::mutex mutex;
    detail::parallel_for(1000, 16, 1e9, [&](Index begin, Index end) {
        std::lock_guard<std::mutex> lock(mutex);
        CHECK(begin % 16 == 0);
        for (Index i = begin; i < end; ++i) ++hits[static_cast<std::size_t>(i)];
    });
    CHECK(std::count(hits.begin(), hits.end(), 1) == 1000);
    set_num_threads(1);
}

TEST_CASE("With two threads the parts really run on two threads") {
    REQUIRE(set_num_threads(2) == 2);
    const std::uint64_t worker_parts_before = detail::WorkerPool::instance().parts_run_by_workers();
    std::mutex mutex;
    std::set<std::thread::id> threads;
    // Slow parts, so the worker wakes up while the caller is still busy with the first one.
    detail::parallel_for(4 * 64, 64, 1e9, [&](Index, Index) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            threads.insert(std::this_thread::get_id());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
    });
    CHECK(threads.size() == 2);
    CHECK(threads.count(std::this_thread::get_id()) == 1);
    CHECK(detail::WorkerPool::instance().parts_run_by_workers() > worker_parts_before);
    set_num_threads(1);
    threads.clear();
    detail::parallel_for(4 * 64, 64, 1e9, [&](Index, Index) { threads.insert(std::this_thread::get_id()); });
    CHECK(threads.size() == 1);
}

TEST_CASE("An exception from any part reaches the caller after every part has finished") {
    REQUIRE(set_num_threads(2) == 2);
    for (Index failing_index = 0; failing_index < 64; failing_index += 16) {
        std::atomic<int> running{0};
        bool thrown = false;
        try {
            detail::parallel_for(64, 16, 1e9, [&](Index begin, Index end) {
                ++running;
                if (begin <= failing_index && failing_index < end) {
                    --running;
                    throw ArgumentError("part failed");
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
                --running;
            });
        } catch (const ArgumentError&) {
            thrown = true;
        }
        CHECK(thrown);
        CHECK(running == 0);  // no part was still running when the caller got the exception
    }
    set_num_threads(1);
}

TEST_CASE("set_num_threads takes no more threads than the CPUs this process may use") {
    CHECK(set_num_threads(1) == 1);
    CHECK(num_threads() == 1);
    const int available = detail::available_cpus();
    CHECK(available >= 1);
    CHECK(set_num_threads(256) == available);
    CHECK(num_threads() == available);
    set_num_threads(1);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(set_num_threads(0), ArgumentError, "1 to 256 threads, got 0");
}
