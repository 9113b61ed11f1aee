// A Keras-like progress bar for a training program, redrawn in place when stdout is a terminal
// and silent otherwise (a log file gets the loss lines only).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

namespace tinygan::app {

class ProgressBar {
public:
    ProgressBar(std::int64_t total, bool terminal) : total_(total), terminal_(terminal) {}

    // Erases the bar, so that a log line can take its place.
    void clear() {
        if (terminal_ && drawn_) std::printf("\r\033[K");
        drawn_ = false;
    }

    // done: steps of the whole run done; done_this_run: since this process started; at most 10
    // redraws a second unless `force`.
    void draw(std::int64_t done, std::int64_t done_this_run, double seconds, float d_loss, float g_loss, bool force) {
        if (!terminal_) return;
        if (!force && seconds - last_draw_ < 0.1) return;
        last_draw_ = seconds;
        const int width = 30;
        const int filled = static_cast<int>(width * done / std::max<std::int64_t>(total_, 1));
        std::string bar(static_cast<std::size_t>(filled), '=');
        if (filled < width) bar += '>' + std::string(static_cast<std::size_t>(width - filled - 1), '.');
        const double rate = seconds > 0 ? static_cast<double>(done_this_run) / seconds : 0;
        const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
        std::printf("\r%lld/%lld [%s] - %.0f steps/s - ETA %.0fs - d_loss: %.4f - g_loss: %.4f\033[K",
                    static_cast<long long>(done), static_cast<long long>(total_), bar.c_str(), rate, eta, d_loss, g_loss);
        std::fflush(stdout);
        drawn_ = true;
    }

private:
    std::int64_t total_;
    bool terminal_;
    bool drawn_ = false;
    double last_draw_ = -1;
};

}  // namespace tinygan::app
