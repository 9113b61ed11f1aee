// set_num_threads and parallel_for: every index once, the work really shared between threads,
// exceptions carried back to the caller, the thread count bounded by the CPUs available, and the
// back-off that runs splits inline while the workers are held off their cores.
#include "test_support.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

using namespace tinygan;

TEST_CASE("parallel_for covers every index once, at part boundaries that are multiples of the grain") {
    test::TwoThreads two;
    std::vector<int> hits(1000, 0);
    std::mutex mutex;
    detail::parallel_for(1000, 16, 1e9, [&](Index begin, Index end) {
        std::lock_guard<std::mutex> lock(mutex);
        CHECK(begin % 16 == 0);
        for (Index i = begin; i < end; ++i) ++hits[static_cast<std::size_t>(i)];
    });
    CHECK(std::count(hits.begin(), hits.end(), 1) == 1000);
}

namespace {

// A part that waits, up to a timeout, until a part has started on a thread other than the caller:
// then two threads ran parts, whatever the machine's timing.
struct MeetingPoint {
    std::mutex mutex;
    std::condition_variable other_thread_started;
    std::set<std::thread::id> threads;
    const std::thread::id caller = std::this_thread::get_id();

    void enter() {
        std::unique_lock<std::mutex> lock(mutex);
        threads.insert(std::this_thread::get_id());
        if (std::this_thread::get_id() != caller) other_thread_started.notify_all();
        other_thread_started.wait_for(lock, std::chrono::seconds(10), [&] { return threads.size() > 1; });
    }
};

}  // namespace

TEST_CASE("With two threads the parts really run on two threads") {
    test::TwoThreads two;
    MeetingPoint meeting;
    detail::parallel_for(4 * 64, 64, 1e9, [&](Index, Index) { meeting.enter(); });
    CHECK(meeting.threads.size() == 2);
    CHECK(meeting.threads.count(meeting.caller) == 1);
    CHECK(two.worker_took_part());
    set_num_threads(1);
    std::set<std::thread::id> threads;
    detail::parallel_for(4 * 64, 64, 1e9, [&](Index, Index) { threads.insert(std::this_thread::get_id()); });
    CHECK(threads.size() == 1);
}

TEST_CASE("An exception from any part, on either thread, reaches the caller after every part has finished") {
    for (const bool throw_on_worker : {false, true}) {
        CAPTURE(throw_on_worker);
        test::TwoThreads two;
        MeetingPoint meeting;
        std::atomic<int> running{0}, thrown_by_worker{0};
        bool thrown = false;
        try {
            detail::parallel_for(4 * 16, 16, 1e9, [&](Index, Index) {
                ++running;
                meeting.enter();  // both threads are in, so each runs at least one part
                const bool on_worker = std::this_thread::get_id() != meeting.caller;
                if (on_worker == throw_on_worker) {
                    thrown_by_worker += on_worker;
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
        if (throw_on_worker) CHECK(thrown_by_worker > 0);
    }
}

TEST_CASE("set_num_threads takes no more threads than the CPUs this process may use") {
    CHECK(set_num_threads(1) == 1);
    CHECK(num_threads() == 1);
    const int available = detail::available_cpus();
    CHECK(set_num_threads(256) == available);
    CHECK(num_threads() == available);
    set_num_threads(1);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(set_num_threads(0), ArgumentError, "1 to 256 threads, got 0");
}

TEST_CASE("Worker threads run their parts in the caller's floating-point mode (flush-to-zero)") {
    if (!TINYGAN_HAS_MXCSR) return;
    test::TwoThreads two;
    MeetingPoint meeting;
    std::mutex mutex;
    std::vector<bool> flushing;
    {
        const ScopedFlushDenormals flush;
        detail::parallel_for(4 * 64, 64, 1e9, [&](Index, Index) {
            meeting.enter();
            std::lock_guard<std::mutex> lock(mutex);
            flushing.push_back((detail::floating_point_mode() & 0x8040u) == 0x8040u);
        });
    }
    CHECK(meeting.threads.size() == 2);
    CHECK(flushing.size() == 4);
    CHECK(std::all_of(flushing.begin(), flushing.end(), [](bool f) { return f; }));
}

TEST_CASE("The pool's back-off: slow hand-offs run the next splits inline, 128 doubling up to 8192, and fast ones bring it down") {
    using us = std::chrono::microseconds;
    detail::SplitBackoff backoff;
    auto inline_run = [&] {  // how many splits run inline before splitting resumes
        int count = 0;
        while (backoff.run_inline()) ++count;
        return count;
    };
    for (int split = 0; split < 1000; ++split) backoff.note_wait(us(5), us(100));  // a quiet machine
    backoff.note_wait(us(120), us(100));  // exactly the 20 us of slack: still fast
    CHECK(inline_run() == 0);
    CHECK(backoff.level() == 0);

    backoff.note_wait(us(121), us(100));  // one slow hand-off
    CHECK(inline_run() == 128);
    for (std::uint32_t level = 2; level <= 9; ++level) {  // each further one doubles, up to 8192
        backoff.note_wait(us(5000), us(10));
        CHECK(backoff.level() == std::min(level, detail::SplitBackoff::max_level));
        CHECK(inline_run() == std::min(64 << level, 8192));
    }
    // 64 fast splits in a row take one notch off; a slow one in between starts the count again.
    for (int split = 0; split < 63; ++split) backoff.note_wait(us(1), us(10));
    backoff.note_wait(us(5000), us(10));
    CHECK(backoff.level() == 7);
    CHECK(inline_run() == 8192);
    for (int split = 0; split < 63; ++split) backoff.note_wait(us(1), us(10));
    CHECK(backoff.level() == 7);
    backoff.note_wait(us(1), us(10));
    CHECK(backoff.level() == 6);
    for (int split = 0; split < 6 * 64; ++split) backoff.note_wait(us(1), us(10));
    CHECK(backoff.level() == 0);
    CHECK(inline_run() == 0);

    backoff.set_enabled(false);  // as test::TwoThreads has it: every split is offered to the workers
    backoff.note_wait(us(5000), us(10));
    CHECK(inline_run() == 0);
    backoff.set_enabled(true);
    backoff.note_wait(us(5000), us(10));
    CHECK(inline_run() == 128);
}
