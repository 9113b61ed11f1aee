// IDX files, the MNIST format: read and write unsigned-byte arrays, load MNIST images as bytes,
// and gather a batch of them as floats in [0, 1]. Not part of gan.hpp: include it to use it.
//
// Layout: 2 zero bytes, a type byte (0x08 = unsigned byte, the only type MNIST uses), the number
// of dimensions, each dimension as a big-endian uint32, then the data in row-major order.
#pragma once

#include "config.hpp"
#include "file_io.hpp"
#include "error.hpp"
#include "random.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <sys/stat.h>

namespace tinygan {

struct IdxArray {
    std::vector<std::uint32_t> dims;  // e.g. {60000, 28, 28}
    std::vector<std::uint8_t> data;   // row-major, product(dims) bytes
};

namespace detail {

inline const char* idx_type_name(std::uint8_t type) {
    switch (type) {
        case 0x08: return "unsigned byte";
        case 0x09: return "signed byte";
        case 0x0B: return "short";
        case 0x0C: return "int";
        case 0x0D: return "float";
        case 0x0E: return "double";
        default: return "unknown";
    }
}

}  // namespace detail

namespace detail {

struct IdxHeader {
    std::vector<std::uint32_t> dims;
    std::size_t header_bytes = 0;
    std::uint64_t count = 0;  // elements = data bytes
};

// Checks an IDX header against the file's total size; `head` holds at least the first bytes of
// the file (all of them when it is shorter than the header).
inline IdxHeader parse_idx_header(const std::uint8_t* head, std::size_t head_size, std::uint64_t file_size,
                                  const std::string& name) {
    auto fail = [&](const std::string& what) { return DataError(name + " is not a valid IDX file: " + what); };
    if (file_size < 4) throw fail(concat("it has ", file_size, " bytes, fewer than the 4-byte magic number"));
    if (head[0] != 0 || head[1] != 0)
        throw fail(concat("bad magic number: the first two bytes are ", int(head[0]), " ", int(head[1]),
                          ", expected 0 0 (is it still gzip-compressed?)"));
    const std::uint8_t type = head[2];
    if (type != 0x08)
        throw fail(concat("element type 0x", std::hex, int(type), std::dec, " (", idx_type_name(type),
                          "), expected 0x08 (unsigned byte)"));
    const std::size_t rank = head[3];
    if (rank == 0) throw fail("it declares 0 dimensions");
    IdxHeader header;
    header.header_bytes = 4 + 4 * rank;
    if (file_size < header.header_bytes || head_size < header.header_bytes)
        throw fail(concat("truncated header: ", rank, " dimensions need ", header.header_bytes, " bytes, the file has ",
                          file_size));
    header.count = 1;
    for (std::size_t d = 0; d < rank; ++d) {
        const std::uint8_t* p = head + 4 + 4 * d;
        const std::uint32_t dim = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) |
                                  (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
        header.dims.push_back(dim);
        header.count *= dim;
        if (header.count > (std::uint64_t(1) << 40)) throw fail("its dimensions describe more than 2^40 elements");
    }
    if (header.count == 0) throw fail("it holds zero items (dimension of size 0)");
    const std::uint64_t data_bytes = file_size - header.header_bytes;
    if (data_bytes < header.count)
        throw fail(concat("truncated: the dimensions need ", header.count, " bytes of data, the file has ", data_bytes));
    if (data_bytes > header.count)
        throw fail(concat("the dimensions need ", header.count, " bytes of data, but the file has ", data_bytes, " (",
                          data_bytes - header.count, " extra)"));
    return header;
}

// Opens an IDX file, checks its header against its size, and copies its data to the buffer that
// make_buffer(header) returns (so a 47 MB image set is held once, not copied through a vector).
template <class MakeBuffer>
IdxHeader read_idx_into(const std::string& path, MakeBuffer make_buffer) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) throw DataError(concat("cannot open ", path, ": ", std::strerror(errno)));
    struct Closer {
        std::FILE* f;
        ~Closer() { std::fclose(f); }
    } closer{file};
    struct stat info {};
    if (::fstat(::fileno(file), &info) != 0 || !S_ISREG(info.st_mode))
        throw DataError(concat("cannot read ", path, ": it is not a regular file (a folder?)"));
    const auto size = static_cast<std::uint64_t>(info.st_size);
    std::uint8_t head[4 + 4 * 255];
    const std::size_t expected = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof head, size));
    const std::size_t got = std::fread(head, 1, expected, file);
    if (got != expected) throw DataError(concat("cannot read ", path, ": read error"));
    std::size_t wanted = got >= 4 ? std::min<std::size_t>(got, 4 + 4 * std::size_t(head[3])) : got;
    const IdxHeader header = parse_idx_header(head, wanted, size, path);
    std::uint8_t* out = make_buffer(header);
    std::memcpy(out, head + header.header_bytes, got - header.header_bytes);
    const std::size_t rest = header.count - (got - header.header_bytes);
    if (std::fread(out + (got - header.header_bytes), 1, rest, file) != rest)
        throw DataError(concat("cannot read ", path, ": it changed or failed while being read"));
    return header;
}

}  // namespace detail

// Parses an IDX byte image; `name` is used in error messages (the file's path).
inline IdxArray parse_idx(const std::vector<std::uint8_t>& bytes, const std::string& name) {
    const detail::IdxHeader header = detail::parse_idx_header(bytes.data(), bytes.size(), bytes.size(), name);
    IdxArray array;
    array.dims = header.dims;
    array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header.header_bytes), bytes.end());
    return array;
}

inline IdxArray read_idx(const std::string& path) {
    IdxArray array;
    const detail::IdxHeader header = detail::read_idx_into(path, [&](const detail::IdxHeader& h) {
        array.data.resize(h.count);
        return array.data.data();
    });
    array.dims = header.dims;
    return array;
}

// Writes an unsigned-byte IDX file atomically (temporary file, flush, rename).
inline void write_idx(const std::string& path, const std::vector<std::uint32_t>& dims,
                      const std::vector<std::uint8_t>& data) {
    if (dims.empty() || dims.size() > 255)
        throw ArgumentError(detail::concat("write_idx: needs 1 to 255 dimensions, got ", dims.size()));
    std::uint64_t count = 1;
    for (auto d : dims) count *= d;
    if (count != data.size())
        throw ArgumentError(detail::concat("write_idx: the dimensions describe ", count, " bytes, the data has ",
                                           data.size()));
    std::vector<std::uint8_t> bytes{0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
    for (auto d : dims)
        for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(d >> shift));
    bytes.insert(bytes.end(), data.begin(), data.end());
    write_file_atomically(path, bytes.data(), bytes.size());
}

// MNIST images kept as bytes, one image per column (rows*cols x count): the IDX order exactly.
class ImageSet {
public:
    using Bytes = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>;

    // Reads a 3-dimensional IDX file (count x rows x cols), such as train-images-idx3-ubyte.
    static ImageSet load(const std::string& path) {
        ImageSet set;
        detail::read_idx_into(path, [&](const detail::IdxHeader& header) {
            if (header.dims.size() != 3)
                throw DataError(detail::concat(path, " holds a ", header.dims.size(),
                                               "-dimensional array; images need 3 dimensions (count x rows x cols)"));
            set.rows_ = header.dims[1];
            set.cols_ = header.dims[2];
            set.pixels_.resize(set.rows_ * set.cols_, header.dims[0]);
            return set.pixels_.data();
        });
        return set;
    }

    Index count() const { return pixels_.cols(); }
    Index image_rows() const { return rows_; }
    Index image_cols() const { return cols_; }
    Index pixels_per_image() const { return pixels_.rows(); }
    const Bytes& pixels() const { return pixels_; }

    // Fills `batch` (pixels x batch.cols(), preallocated) with images drawn uniformly with
    // replacement, scaled to [0, 1] as the reference does (pixels / 255).
    template <class Scalar>
    void sample_batch(Matrix<Scalar>& batch, Rng& rng) const {
        TINYGAN_ASSERT(batch.rows() == pixels_.rows());
        for (Index j = 0; j < batch.cols(); ++j) {
            const auto k = static_cast<Index>(rng.uniform_index(static_cast<std::uint64_t>(pixels_.cols())));
            batch.col(j) = pixels_.col(k).template cast<Scalar>() / Scalar(255);
        }
    }

private:
    Bytes pixels_;
    Index rows_ = 0, cols_ = 0;
};

}  // namespace tinygan
