// IDX files, the MNIST format: read and write unsigned-byte arrays, load MNIST images as bytes,
// and gather a batch of them as floats in [0, 1]. Not part of gan.hpp: include it to use it.
//
// Layout: 2 zero bytes, a type byte (0x08 = unsigned byte, the only type MNIST uses), the number
// of dimensions, each dimension as a big-endian uint32, then the data in row-major order.
#pragma once

#include "config.hpp"
#include "detail/file_io.hpp"
#include "error.hpp"
#include "random.hpp"

#include <cstdint>
#include <string>
#include <vector>

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

// Parses an IDX byte image; `name` is used in error messages (the file's path).
inline IdxArray parse_idx(const std::vector<std::uint8_t>& bytes, const std::string& name) {
    auto fail = [&](const std::string& what) { return DataError(name + " is not a valid IDX file: " + what); };
    if (bytes.size() < 4)
        throw fail(detail::concat("it has ", bytes.size(), " bytes, fewer than the 4-byte magic number"));
    if (bytes[0] != 0 || bytes[1] != 0)
        throw fail(detail::concat("bad magic number: the first two bytes are ", int(bytes[0]), " ", int(bytes[1]),
                                  ", expected 0 0 (is it still gzip-compressed?)"));
    const std::uint8_t type = bytes[2];
    if (type != 0x08)
        throw fail(detail::concat("element type 0x", std::hex, int(type), std::dec, " (",
                                  detail::idx_type_name(type), "), expected 0x08 (unsigned byte)"));
    const std::size_t rank = bytes[3];
    if (rank == 0) throw fail("it declares 0 dimensions");
    const std::size_t header = 4 + 4 * rank;
    if (bytes.size() < header)
        throw fail(detail::concat("truncated header: ", rank, " dimensions need ", header, " bytes, the file has ",
                                  bytes.size()));
    IdxArray array;
    std::uint64_t count = 1;
    for (std::size_t d = 0; d < rank; ++d) {
        const std::uint8_t* p = &bytes[4 + 4 * d];
        const std::uint32_t dim = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) |
                                  (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
        array.dims.push_back(dim);
        count *= dim;
        if (count > (std::uint64_t(1) << 40)) throw fail("its dimensions describe more than 2^40 elements");
    }
    if (count == 0) throw fail(detail::concat("it holds zero items (dimension of size 0)"));
    const std::uint64_t data_bytes = bytes.size() - header;
    if (data_bytes < count)
        throw fail(detail::concat("truncated: the dimensions need ", count, " bytes of data, the file has ",
                                  data_bytes));
    if (data_bytes > count)
        throw fail(detail::concat("the dimensions need ", count, " bytes of data, but the file has ", data_bytes,
                                  " (", data_bytes - count, " extra)"));
    array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
    return array;
}

inline IdxArray read_idx(const std::string& path) { return parse_idx(detail::read_file_bytes(path), path); }

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
    detail::write_file_atomically(path, bytes.data(), bytes.size());
}

// MNIST images kept as bytes, one image per column (rows*cols x count): the IDX order exactly.
class ImageSet {
public:
    using Bytes = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>;

    // Reads a 3-dimensional IDX file (count x rows x cols), such as train-images-idx3-ubyte.
    static ImageSet load(const std::string& path) {
        IdxArray array = read_idx(path);
        if (array.dims.size() != 3)
            throw DataError(detail::concat(path, " holds a ", array.dims.size(),
                                           "-dimensional array; images need 3 dimensions (count x rows x cols)"));
        ImageSet set;
        set.rows_ = array.dims[1];
        set.cols_ = array.dims[2];
        set.pixels_ = Eigen::Map<const Bytes>(array.data.data(), set.rows_ * set.cols_, array.dims[0]);
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
