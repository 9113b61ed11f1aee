// IDX files, the MNIST format: read and write unsigned-byte arrays, load MNIST images and labels
// as bytes, and gather a batch of images as floats in [0, 1]. Files compressed with gzip (as the
// MNIST site, torchvision's mirrors and Debian's dataset-fashion-mnist ship them) are read
// directly, recognised by their content, with zlib. Not part of gan.hpp: include it to use it (and
// link zlib; the tinygan CMake target does).
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
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <zlib.h>

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

inline DataError idx_error(const std::string& name, const std::string& what) {
    return DataError(name + " is not a valid IDX file: " + what);
}

// Checks an IDX header: `head` holds the first head_size bytes of the file (all of them when it
// is shorter than its header).
inline IdxHeader parse_idx_header(const std::uint8_t* head, std::size_t head_size, const std::string& name) {
    if (head_size < 4) throw idx_error(name, concat("it has ", head_size, " bytes, fewer than the 4-byte magic number"));
    if (head[0] != 0 || head[1] != 0)
        throw idx_error(name, concat("bad magic number: the first two bytes are ", int(head[0]), " ", int(head[1]),
                                     ", expected 0 0 (an IDX file, or one compressed with gzip)"));
    const std::uint8_t type = head[2];
    if (type != 0x08)
        throw idx_error(name, concat("element type 0x", std::hex, int(type), std::dec, " (", idx_type_name(type),
                                     "), expected 0x08 (unsigned byte)"));
    const std::size_t rank = head[3];
    if (rank == 0) throw idx_error(name, "it declares 0 dimensions");
    IdxHeader header;
    header.header_bytes = 4 + 4 * rank;
    if (head_size < header.header_bytes)
        throw idx_error(name, concat("truncated header: ", rank, " dimensions need ", header.header_bytes,
                                     " bytes, the file has ", head_size));
    header.count = 1;
    for (std::size_t d = 0; d < rank; ++d) {
        const std::uint8_t* p = head + 4 + 4 * d;
        const std::uint32_t dim = (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) |
                                  (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
        header.dims.push_back(dim);
        header.count *= dim;
        if (header.count > (std::uint64_t(1) << 40)) throw idx_error(name, "its dimensions describe more than 2^40 elements");
    }
    if (header.count == 0) throw idx_error(name, "it holds zero items (dimension of size 0)");
    return header;
}

// Checks that the data after the header is exactly what the dimensions need.
inline void check_idx_data_size(const IdxHeader& header, std::uint64_t data_bytes, const std::string& name,
                                const char* file = "the file") {
    if (data_bytes < header.count)
        throw idx_error(name, concat("truncated: the dimensions need ", header.count, " bytes of data, ", file, " has ",
                                     data_bytes));
    if (data_bytes > header.count)
        throw idx_error(name, concat("the dimensions need ", header.count, " bytes of data, but ", file, " has ",
                                     data_bytes, " (", data_bytes - header.count, " extra)"));
}

inline bool is_gzip(const std::uint8_t* bytes, std::size_t size) { return size >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b; }

// Inflates a gzip image (one or more members) a piece at a time, with errors that name the file.
class GzipReader {
public:
    GzipReader(const std::vector<std::uint8_t>& compressed, std::string name)
        : compressed_(compressed), name_(std::move(name)) {
        stream_.next_in = const_cast<Bytef*>(compressed_.data());
        stream_.avail_in = static_cast<uInt>(compressed_.size());
        if (compressed_.size() > 0xffffffffu) throw DataError(concat(name_, ": compressed files over 4 GiB are not supported"));
        if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) throw DataError(concat(name_, ": zlib could not start"));
    }
    ~GzipReader() { inflateEnd(&stream_); }
    GzipReader(const GzipReader&) = delete;
    GzipReader& operator=(const GzipReader&) = delete;

    // Inflates up to `size` bytes into `out`; returns how many it produced (fewer only at the end).
    std::size_t read(std::uint8_t* out, std::size_t size) {
        std::size_t produced = 0;
        while (produced < size && !finished_) {
            const std::size_t chunk = std::min<std::size_t>(size - produced, 1u << 30);
            stream_.next_out = out + produced;
            stream_.avail_out = static_cast<uInt>(chunk);
            const int status = inflate(&stream_, Z_NO_FLUSH);
            produced += chunk - stream_.avail_out;
            if (status == Z_STREAM_END) {
                // Another member may follow (gzip files may be concatenated); anything else ends it.
                if (stream_.avail_in >= 2 && is_gzip(stream_.next_in, stream_.avail_in)) {
                    inflateReset(&stream_);
                } else {
                    if (stream_.avail_in > 0)
                        throw DataError(concat(name_, " is not valid gzip data: ", stream_.avail_in,
                                               stream_.avail_in == 1 ? " byte" : " bytes",
                                               " of garbage after the compressed data"));
                    finished_ = true;
                }
            } else if (status == Z_BUF_ERROR && stream_.avail_in == 0) {
                throw DataError(concat(name_, " is truncated: the gzip data ends before its last block"));
            } else if (status != Z_OK) {
                throw DataError(concat(name_, " is not valid gzip data: ", stream_.msg ? stream_.msg : "zlib error ",
                                       stream_.msg ? "" : std::to_string(status)));
            }
        }
        return produced;
    }

private:
    const std::vector<std::uint8_t>& compressed_;
    std::string name_;
    z_stream stream_{};
    bool finished_ = false;
};

// An IDX image compressed with gzip: inflates the header, checks it, then inflates the data
// straight into the buffer make_buffer(header) returns. Deflate expands at most 1032:1, so a
// header that claims more than that is refused before anything is allocated.
template <class MakeBuffer>
IdxHeader inflate_idx_into(const std::vector<std::uint8_t>& compressed, const std::string& name, MakeBuffer make_buffer) {
    GzipReader gzip(compressed, name);
    std::uint8_t head[4 + 4 * 255];
    std::size_t got = gzip.read(head, 4);
    if (got == 4) got += gzip.read(head + 4, 4 * std::size_t(head[3]));
    const IdxHeader header = parse_idx_header(head, got, name);
    if (header.count > std::uint64_t(compressed.size()) * 1032 + 1024)
        throw idx_error(name, concat("its header claims ", header.count, " bytes of data, more than ", compressed.size(),
                                     " compressed bytes can hold"));
    std::uint8_t* out = make_buffer(header);
    std::uint64_t data = gzip.read(out, header.count);
    std::uint8_t extra[256];
    for (std::size_t n; data == header.count && (n = gzip.read(extra, sizeof extra)) > 0;) data += n;
    check_idx_data_size(header, data, name, "the decompressed file");
    return header;
}

// Opens an IDX file (plain or gzip), checks its header against its size, and copies its data to
// the buffer that make_buffer(header) returns (so a 47 MB image set is held once, not copied
// through a vector).
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
    if (is_gzip(head, got)) return inflate_idx_into(read_file_bytes(path), path, make_buffer);
    const IdxHeader header = parse_idx_header(head, got, path);
    check_idx_data_size(header, size - header.header_bytes, path);
    std::uint8_t* out = make_buffer(header);
    std::memcpy(out, head + header.header_bytes, got - header.header_bytes);
    const std::size_t rest = header.count - (got - header.header_bytes);
    if (std::fread(out + (got - header.header_bytes), 1, rest, file) != rest)
        throw DataError(concat("cannot read ", path, ": it changed or failed while being read"));
    return header;
}

}  // namespace detail

// Parses an IDX byte image, plain or gzip-compressed; `name` is used in error messages (the file's path).
inline IdxArray parse_idx(const std::vector<std::uint8_t>& bytes, const std::string& name) {
    IdxArray array;
    if (detail::is_gzip(bytes.data(), bytes.size())) {
        array.dims = detail::inflate_idx_into(bytes, name, [&](const detail::IdxHeader& h) {
                         array.data.resize(h.count);
                         return array.data.data();
                     }).dims;
        return array;
    }
    const detail::IdxHeader header = detail::parse_idx_header(bytes.data(), bytes.size(), name);
    detail::check_idx_data_size(header, bytes.size() - header.header_bytes, name);
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

// Class labels of an IDX labels file (1-dimensional unsigned bytes, such as train-labels-idx1-ubyte),
// plain or gzip, that must hold `expected_count` of them: one per image of its images file.
inline Labels read_labels(const std::string& path, Index expected_count) {
    const IdxArray array = read_idx(path);
    if (array.dims.size() != 1)
        throw DataError(detail::concat(path, " holds a ", array.dims.size(), "-dimensional array; labels need 1"));
    if (static_cast<Index>(array.data.size()) != expected_count)
        throw DataError(detail::concat(path, " has ", array.data.size(), " labels for ", expected_count,
                                       " images: the labels file does not match its images file"));
    Labels labels(expected_count);
    for (Index j = 0; j < expected_count; ++j) labels(j) = array.data[static_cast<std::size_t>(j)];
    return labels;
}

// MNIST images kept as bytes, one image per column (rows*cols x count): the IDX order exactly,
// with their class labels when the data set has them (a conditional GAN's).
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

    // The images and their labels together (train-images-idx3-ubyte and train-labels-idx1-ubyte):
    // DataError when the labels file is not one label per image.
    static ImageSet load(const std::string& images_path, const std::string& labels_path) {
        ImageSet set = load(images_path);
        set.set_labels(read_labels(labels_path, set.count()));
        return set;
    }

    Index count() const { return pixels_.cols(); }
    Index image_rows() const { return rows_; }
    Index image_cols() const { return cols_; }
    Index pixels_per_image() const { return pixels_.rows(); }
    const Bytes& pixels() const { return pixels_; }

    bool labelled() const { return labels_.size() > 0; }
    const Labels& labels() const { return labels_; }
    // How many classes the labels name: the largest label + 1 (0 without labels).
    Index classes() const { return labelled() ? Index(labels_.maxCoeff()) + 1 : 0; }
    // One label per image, each 0 to 255 (an IDX file's bytes).
    void set_labels(Labels labels) {
        if (labels.cols() != count())
            throw DataError(detail::concat("the data set has ", count(), " images but ", labels.cols(), " labels"));
        if (labels.size() > 0 && labels.minCoeff() < 0)
            throw DataError(detail::concat("a label is negative: ", labels.minCoeff()));
        labels_ = std::move(labels);
    }

    // Fills `batch` (pixels x batch.cols(), preallocated) with images drawn uniformly with
    // replacement, scaled to [0, 1] as the reference does (pixels / 255); with `labels` (sized
    // 1 x batch.cols()), their labels too.
    template <class Scalar>
    void sample_batch(Matrix<Scalar>& batch, Rng& rng, Labels* labels = nullptr) const {
        sample(batch, rng, labels, false);
    }

    // The same, scaled to [-1, 1] (pixels / 127.5 - 1), for generators with a tanh output.
    template <class Scalar>
    void sample_batch_signed(Matrix<Scalar>& batch, Rng& rng, Labels* labels = nullptr) const {
        sample(batch, rng, labels, true);
    }

    // The images at `indices` (batch.cols() of them), in [-1, 1], and their labels with `labels`.
    template <class Scalar>
    void gather_signed(const Index* indices, Matrix<Scalar>& batch, Labels* labels = nullptr) const {
        TINYGAN_ASSERT(batch.rows() == pixels_.rows());
        for (Index j = 0; j < batch.cols(); ++j) {
            batch.col(j).array() = pixels_.col(indices[j]).template cast<Scalar>().array() / Scalar(127.5) - Scalar(1);
            if (labels) (*labels)(j) = label_of(indices[j]);
        }
    }

private:
    template <class Scalar>
    void sample(Matrix<Scalar>& batch, Rng& rng, Labels* labels, bool signed_images) const {
        TINYGAN_ASSERT(batch.rows() == pixels_.rows());
        TINYGAN_ASSERT(!labels || labels->cols() == batch.cols());
        for (Index j = 0; j < batch.cols(); ++j) {
            const auto k = static_cast<Index>(rng.uniform_index(static_cast<std::uint64_t>(pixels_.cols())));
            if (signed_images)
                batch.col(j).array() = pixels_.col(k).template cast<Scalar>().array() / Scalar(127.5) - Scalar(1);
            else
                batch.col(j) = pixels_.col(k).template cast<Scalar>() / Scalar(255);
            if (labels) (*labels)(j) = label_of(k);
        }
    }
    int label_of(Index k) const {
        if (!labelled()) throw DataError("the data set has no labels: load it with its labels file");
        return labels_(k);
    }

    Bytes pixels_;
    Labels labels_;
    Index rows_ = 0, cols_ = 0;
};

// The order of the passes over a data set, as PyTorch's RandomSampler draws it with drop_last: a
// new random order (Fisher-Yates) every epoch, batches of `batch` indices, the last partial batch
// of an epoch dropped. Checkpoints keep the generator that drew the current epoch's order and the
// position in it, so a resumed run continues the same epoch in the same order.
class EpochOrder {
public:
    EpochOrder(Index count, Index batch, std::uint64_t seed) : rng_(seed), order_(static_cast<std::size_t>(count)), batch_(batch) {
        if (batch <= 0 || count < batch)
            throw ArgumentError(detail::concat("--batch-size ", batch, " is larger than the ", count, " images"));
        start_epoch();
    }

    Index batches_per_epoch() const { return static_cast<Index>(order_.size()) / batch_; }
    Index position() const { return position_; }

    // The next batch's indices (batch of them), starting a new epoch when this one is done.
    const Index* next_batch() {
        if (position_ == batches_per_epoch()) start_epoch();
        return order_.data() + static_cast<std::size_t>(position_++ * batch_);
    }

    // The generator state the current epoch's order was drawn from, for checkpoints.
    Rng& epoch_start_rng() { return epoch_start_rng_; }
    // Continues at batch `position` of the epoch whose order epoch_start_rng() (as loaded) draws.
    void restore_position(Index position) {
        if (position < 0 || position > batches_per_epoch())
            throw DataError(detail::concat("a checkpoint at batch ", position, " of an epoch of ", batches_per_epoch(),
                                           " (another data set?)"));
        rng_ = epoch_start_rng_;
        start_epoch();
        position_ = position;
    }

private:
    void start_epoch() {
        epoch_start_rng_ = rng_;
        for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<Index>(i);
        for (std::size_t i = order_.size() - 1; i > 0; --i) std::swap(order_[i], order_[rng_.uniform_index(i + 1)]);
        position_ = 0;
    }

    Rng rng_, epoch_start_rng_;
    std::vector<Index> order_;
    Index batch_, position_ = 0;
};

}  // namespace tinygan
