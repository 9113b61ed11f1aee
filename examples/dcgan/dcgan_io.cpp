// The DCGAN's run (dcgan.hpp): sampling, checkpoints and the log line, compiled apart from the
// step (dcgan.cpp) so that each unit stays quick to compile.
#include "dcgan.hpp"

#include <cstdio>

namespace dcgan {

template <bool Conditional>
Mat BasicDcgan<Conditional>::sample_with(const Mat& noise, const tinygan::Labels* labels) {
    Generator sampler = generator_;
    average_->apply_to(sampler);
    Mat images;
    if constexpr (Conditional) {
        tinygan::update_batch_norm_statistics(sampler, statistics_noise_, statistics_labels_);
        images = tinygan::app::predict_in_chunks(sampler, noise, *labels);
    } else {
        tinygan::update_batch_norm_statistics(sampler, statistics_noise_);
        images = tinygan::app::predict_in_chunks(sampler, noise);
    }
    return (images.array() * 0.5f + 0.5f).matrix();
}

template <bool Conditional>
Mat BasicDcgan<Conditional>::sample(const Mat& noise) {
    if constexpr (Conditional) {  // every class in turn
        const tinygan::Labels labels = tinygan::app::cycling_labels(noise.cols(), dcgan::classes);
        return sample_with(noise, &labels);
    } else {
        return sample_with(noise, nullptr);
    }
}

template <bool Conditional>
Mat BasicDcgan<Conditional>::sample_classes(const Mat& noise, const tinygan::Labels& labels) {
    if (!Conditional) return tinygan::app::Gan::sample_classes(noise, labels);  // refuses
    if (labels.cols() != noise.cols())
        throw tinygan::ShapeError(tinygan::detail::concat("sample_classes: ", noise.cols(), " noise columns but ",
                                                          labels.cols(), " classes"));
    return sample_with(noise, &labels);
}

template <bool Conditional>
void BasicDcgan<Conditional>::summary(std::ostream& out) const {
    generator_.summary(out);
    discriminator_.summary(out);
}

template <bool Conditional>
void BasicDcgan<Conditional>::save(const std::string& path) {
    tinygan::TensorFile file;
    state().save(file);
    file.metadata["format"] = format_name;
    tinygan::app::save_classes(file, classes());
    file.metadata["step"] = std::to_string(steps_done_);
    file.metadata["epoch_position"] = std::to_string(order_.position());
    file.metadata["z_dim"] = std::to_string(config_.z_dim);
    file.metadata["batch_size"] = std::to_string(config_.batch_size);
    file.metadata["seed"] = std::to_string(config_.seed);
    tinygan::save_safetensors(path, file);
}

template <bool Conditional>
void BasicDcgan<Conditional>::load(const tinygan::TensorFile& file, const std::string& source) {
    using tinygan::detail::concat;
    const Config saved = read_config(file, source);
    tinygan::app::require_classes(file, source, classes());
    if (saved.z_dim != config_.z_dim || saved.batch_size != config_.batch_size)
        throw tinygan::DataError(concat(source, " was written with --z-dim ", saved.z_dim, " --batch-size ",
                                        saved.batch_size, ", but this run uses --z-dim ", config_.z_dim,
                                        " --batch-size ", config_.batch_size));
    const auto step = static_cast<std::int64_t>(tinygan::metadata_u64(file, "step", source));
    const auto position = static_cast<Index>(tinygan::metadata_u64(file, "epoch_position", source));
    if (position > steps_per_epoch())
        throw tinygan::DataError(concat(source, " is at batch ", position, " of an epoch of ", steps_per_epoch(),
                                        " (another data set?)"));
    state().load(file, source);
    order_.restore_position(position);  // the epoch's order, drawn again from the generator it came from
    steps_done_ = step;
}

template <bool Conditional>
std::string BasicDcgan<Conditional>::log_line(std::int64_t step, std::int64_t total_steps, const StepResult& r) const {
    const std::int64_t per_epoch = steps_per_epoch();
    const std::int64_t epochs = (total_steps + per_epoch - 1) / per_epoch;
    char line[160];
    std::snprintf(line, sizeof line, "Epoch %lld/%lld, batch %lld/%lld - D Loss: %.4f - G Loss: %.4f - D Acc: %.2f%%",
                  static_cast<long long>((step - 1) / per_epoch + 1), static_cast<long long>(epochs),
                  static_cast<long long>((step - 1) % per_epoch + 1), static_cast<long long>(per_epoch), r.d_loss,
                  r.g_loss, 100 * r.d_accuracy);
    return line;
}

#define DCGAN_INSTANTIATE_IO(C)                                                                                    \
    template Mat BasicDcgan<C>::sample_with(const Mat&, const tinygan::Labels*);                                   \
    template Mat BasicDcgan<C>::sample(const Mat&);                                                                \
    template Mat BasicDcgan<C>::sample_classes(const Mat&, const tinygan::Labels&);                                \
    template void BasicDcgan<C>::summary(std::ostream&) const;                                                     \
    template void BasicDcgan<C>::save(const std::string&);                                                         \
    template void BasicDcgan<C>::load(const tinygan::TensorFile&, const std::string&);                             \
    template std::string BasicDcgan<C>::log_line(std::int64_t, std::int64_t, const StepResult&) const;
DCGAN_INSTANTIATE_IO(false)
DCGAN_INSTANTIATE_IO(true)
#undef DCGAN_INSTANTIATE_IO

}  // namespace dcgan
