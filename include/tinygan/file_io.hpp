// Whole-file reads and atomic whole-file writes, with errors that name the file and the reason.
// An atomic write goes to "<path>.tmp", is flushed to disk, then renamed over <path>: a crash at any
// moment leaves either the old file or the new one, never a half-written file.
#pragma once

#include "error.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace tinygan {

inline std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) throw DataError(detail::concat("cannot open ", path, ": ", std::strerror(errno)));
    std::vector<std::uint8_t> bytes;
    std::uint8_t chunk[1 << 16];
    std::size_t got = 0;
    while ((got = std::fread(chunk, 1, sizeof chunk, file)) > 0) bytes.insert(bytes.end(), chunk, chunk + got);
    const bool failed = std::ferror(file) != 0;
    std::fclose(file);
    if (failed) throw DataError(detail::concat("cannot read ", path, ": read error"));
    return bytes;
}

// A file written atomically, piece by piece: to "<path>.tmp", flushed to disk and renamed over
// <path> by commit(). Destroyed without commit() (an exception on the way), it removes the
// temporary file and leaves <path> as it was.
class AtomicFileWriter {
public:
    explicit AtomicFileWriter(std::string path) : path_(std::move(path)), temporary_(path_ + ".tmp") {
        fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0) throw DataError(detail::concat("cannot write ", temporary_, ": ", std::strerror(errno)));
    }
    ~AtomicFileWriter() {
        if (fd_ >= 0) ::close(fd_);
        if (!committed_) ::unlink(temporary_.c_str());
    }
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    void write(const void* data, std::size_t size) {
        const auto* bytes = static_cast<const std::uint8_t*>(data);
        std::size_t written = 0;
        while (written < size) {
            const ssize_t n = ::write(fd_, bytes + written, size - written);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw DataError(detail::concat("cannot write ", temporary_, ": ", std::strerror(errno)));
            written += static_cast<std::size_t>(n);
        }
    }

    void commit() {
        // The data must be on disk before the rename makes it visible under the real name. The
        // descriptor is closed whether or not the flush worked.
        const int flushed = ::fsync(fd_) == 0 ? 0 : errno;
        const int closed = ::close(fd_) == 0 ? 0 : errno;
        fd_ = -1;
        if (flushed != 0 || closed != 0)
            throw DataError(detail::concat("cannot flush ", temporary_, ": ", std::strerror(flushed != 0 ? flushed : closed)));
        if (std::rename(temporary_.c_str(), path_.c_str()) != 0)
            throw DataError(detail::concat("cannot rename ", temporary_, " to ", path_, ": ", std::strerror(errno)));
        committed_ = true;
        // And the rename itself must reach the disk: sync the folder that holds the entry.
        const std::size_t slash = path_.find_last_of('/');
        const std::string folder = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
        const int folder_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (folder_fd >= 0) {
            ::fsync(folder_fd);
            ::close(folder_fd);
        }
    }

private:
    std::string path_, temporary_;
    int fd_ = -1;
    bool committed_ = false;
};

inline void write_file_atomically(const std::string& path, const void* data, std::size_t size) {
    AtomicFileWriter file(path);
    file.write(data, size);
    file.commit();
}

}  // namespace tinygan
