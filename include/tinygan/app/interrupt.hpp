// Ctrl-C for a training program: the first SIGINT or SIGTERM only raises a flag that the training
// loop reads between steps, so the run can finish its step, save, and say how to resume; a second
// signal ends the process at once, by the signal's default action (a checkpoint being written
// stays a temporary file; the last good one is untouched).
#pragma once

#include <atomic>
#include <csignal>

namespace tinygan::app {

class InterruptHandler {
public:
    // Installs the handlers for the lifetime of the object; the previous ones come back after.
    InterruptHandler() {
        received().store(0);
        struct sigaction action {};
        action.sa_handler = &on_signal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;  // a write interrupted by the first signal carries on
        sigaction(SIGINT, &action, &previous_interrupt_);
        sigaction(SIGTERM, &action, &previous_terminate_);
    }
    ~InterruptHandler() {
        sigaction(SIGINT, &previous_interrupt_, nullptr);
        sigaction(SIGTERM, &previous_terminate_, nullptr);
    }
    InterruptHandler(const InterruptHandler&) = delete;
    InterruptHandler& operator=(const InterruptHandler&) = delete;

    // The first signal received (SIGINT or SIGTERM), or 0.
    int signal() const { return received().load(std::memory_order_relaxed); }
    bool requested() const { return signal() != 0; }

    // The shell's exit status for a program stopped by `signal`: 128 + its number (130 for SIGINT).
    static int exit_status(int signal) { return 128 + signal; }

private:
    static std::atomic<int>& received() {
        static std::atomic<int> signal{0};  // lock-free, so the handler may store to it
        return signal;
    }

    static void on_signal(int signal) {
        int expected = 0;
        if (received().compare_exchange_strong(expected, signal)) return;
        // The second signal: do what it would have done without us, now.
        std::signal(signal, SIG_DFL);
        std::raise(signal);
    }

    struct sigaction previous_interrupt_ {}, previous_terminate_ {};
};

static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free flag");

}  // namespace tinygan::app
