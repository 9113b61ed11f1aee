// losses.csv for a training program: one row a step, written as the run goes (so `tail -f` and a
// crash both see every finished step), and the loss curves the plot is drawn from, held in
// bounded memory however long the run (the CSV on disk keeps everything).
#pragma once

#include "../error.hpp"
#include "../file_io.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace tinygan::app {

// A curve kept in at most `capacity` points: when it is full, neighbouring points merge into
// their mean, and from then on each point averages twice as many steps. A run of up to
// `capacity` steps keeps every step.
class BoundedSeries {
public:
    explicit BoundedSeries(std::size_t capacity = 16384) : capacity_(capacity < 2 ? 2 : capacity) {}

    void add(double x, double y) {
        pending_x_ += x;
        pending_y_ += y;
        if (++pending_count_ < steps_per_point_) return;
        xs_.push_back(pending_x_ / static_cast<double>(pending_count_));
        ys_.push_back(pending_y_ / static_cast<double>(pending_count_));
        pending_x_ = pending_y_ = 0;
        pending_count_ = 0;
        if (xs_.size() == capacity_) halve();
    }

    const std::vector<double>& xs() const { return xs_; }
    const std::vector<double>& ys() const { return ys_; }
    std::size_t steps_per_point() const { return steps_per_point_; }

private:
    void halve() {
        for (std::size_t i = 0; i < xs_.size() / 2; ++i) {
            xs_[i] = 0.5 * (xs_[2 * i] + xs_[2 * i + 1]);
            ys_[i] = 0.5 * (ys_[2 * i] + ys_[2 * i + 1]);
        }
        xs_.resize(xs_.size() / 2);
        ys_.resize(ys_.size() / 2);
        steps_per_point_ *= 2;
    }

    std::size_t capacity_, steps_per_point_ = 1, pending_count_ = 0;
    double pending_x_ = 0, pending_y_ = 0;
    std::vector<double> xs_, ys_;
};

class LossLog {
public:
    // Opens `path` for a run that continues after `resume_step` (0: a new run; the file is
    // replaced). A resumed run keeps the rows up to resume_step and drops any written after it,
    // since the checkpoint it resumes from is older than them; the rewrite is atomic.
    LossLog(std::string path, std::vector<std::string> columns, std::int64_t resume_step)
        : path_(std::move(path)), columns_(std::move(columns)), series_(columns_.size()) {
        std::string header = "step";
        for (const auto& column : columns_) header += "," + column;
        header += '\n';
        AtomicFileWriter rewritten(path_);  // streamed: the old file may hold millions of rows
        rewritten.write(header.data(), header.size());
        if (resume_step > 0) keep_rows_up_to(resume_step, rewritten);
        rewritten.commit();
        file_ = std::fopen(path_.c_str(), "a");
        if (!file_) throw DataError(detail::concat("cannot append to ", path_, ": ", std::strerror(errno)));
    }
    ~LossLog() { close(); }
    LossLog(const LossLog&) = delete;
    LossLog& operator=(const LossLog&) = delete;

    // One row: the step and one value per column. Written through at once (one write a step), so
    // the file never lags the run by more than the row being written.
    void append(std::int64_t step, const float* values) {
        char row[32 + 24 * max_columns];
        int used = std::snprintf(row, sizeof row, "%lld", static_cast<long long>(step));
        for (std::size_t i = 0; i < columns_.size() && i < max_columns; ++i) {
            used += std::snprintf(row + used, sizeof row - static_cast<std::size_t>(used), ",%.6f", values[i]);
            series_[i].add(static_cast<double>(step), values[i]);
        }
        row[used++] = '\n';
        if (std::fwrite(row, 1, static_cast<std::size_t>(used), file_) != static_cast<std::size_t>(used) ||
            std::fflush(file_) != 0)
            throw DataError(detail::concat("cannot append to ", path_, ": ", std::strerror(errno)));
    }

    void close() {
        if (file_) std::fclose(file_);
        file_ = nullptr;
    }

    // The curve of column i, in bounded memory.
    const BoundedSeries& series(std::size_t i) const { return series_.at(i); }
    const std::vector<std::string>& columns() const { return columns_; }
    const std::string& path() const { return path_; }

    static constexpr std::size_t max_columns = 8;

private:
    // Streams the old file: rows up to `last_step` go to `kept` and to the curves; the rest, and
    // any row a crash cut short, are dropped.
    void keep_rows_up_to(std::int64_t last_step, AtomicFileWriter& kept) {
        std::ifstream in(path_);
        std::string line, buffer;
        std::getline(in, line);  // the header
        while (std::getline(in, line)) {
            std::vector<float> values;
            char* cursor = line.data();
            char* end = nullptr;
            errno = 0;
            const long long step = std::strtoll(cursor, &end, 10);
            if (end == cursor || errno != 0 || step > last_step) continue;
            cursor = end;
            while (*cursor == ',') {
                values.push_back(std::strtof(cursor + 1, &end));
                if (end == cursor + 1) break;
                cursor = end;
            }
            if (*cursor != '\0' || values.size() != columns_.size()) continue;  // a partial row
            buffer += line;
            buffer += '\n';
            if (buffer.size() > (1 << 16)) {
                kept.write(buffer.data(), buffer.size());
                buffer.clear();
            }
            for (std::size_t i = 0; i < values.size(); ++i) series_[i].add(static_cast<double>(step), values[i]);
        }
        kept.write(buffer.data(), buffer.size());
    }

    std::string path_;
    std::vector<std::string> columns_;
    std::vector<BoundedSeries> series_;
    std::FILE* file_ = nullptr;
};

}  // namespace tinygan::app
