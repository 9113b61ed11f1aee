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

inline void write_file_atomically(const std::string& path, const void* data, std::size_t size) {
    const std::string temporary = path + ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw DataError(detail::concat("cannot write ", temporary, ": ", std::strerror(errno)));
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    std::size_t written = 0;
    while (written < size) {
        const ssize_t n = ::write(fd, bytes + written, size - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int error = errno;
            ::close(fd);
            ::unlink(temporary.c_str());
            throw DataError(detail::concat("cannot write ", temporary, ": ", std::strerror(error)));
        }
        written += static_cast<std::size_t>(n);
    }
    // The data must be on disk before the rename makes it visible under the real name. The
    // descriptor is closed whether or not the flush worked.
    const int flushed = ::fsync(fd) == 0 ? 0 : errno;
    const int closed = ::close(fd) == 0 ? 0 : errno;
    if (flushed != 0 || closed != 0) {
        ::unlink(temporary.c_str());
        throw DataError(detail::concat("cannot flush ", temporary, ": ", std::strerror(flushed != 0 ? flushed : closed)));
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        throw DataError(detail::concat("cannot rename ", temporary, " to ", path, ": ", std::strerror(error)));
    }
    // And the rename itself must reach the disk: sync the folder that holds the entry.
    const std::size_t slash = path.find_last_of('/');
    const std::string folder = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    const int folder_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (folder_fd >= 0) {
        ::fsync(folder_fd);
        ::close(folder_fd);
    }
}

}  // namespace tinygan
