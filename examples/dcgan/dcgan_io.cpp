// The DCGAN's run (dcgan.hpp): sampling, checkpoints and the log line, compiled apart from the
// step (dcgan.cpp) so that each unit stays quick to compile.
#include "dcgan.hpp"

#include <cstdio>

namespace dcgan {

Mat Dcgan::sample(const Mat& noise) {
    Generator sampler = generator_;
    average_->apply_to(sampler);
    tinygan::update_batch_norm_statistics(sampler, statistics_noise_);
    return (tinygan::app::predict_in_chunks(sampler, noise).array() * 0.5f + 0.5f).matrix();
}

void Dcgan::summary(std::ostream& out) const {
    generator_.summary(out);
    discriminator_.summary(out);
}

void Dcgan::save(const std::string& path) {
    tinygan::TensorFile file;
    state().save(file);
    file.metadata["format"] = format_name;
    file.metadata["step"] = std::to_string(steps_done_);
    file.metadata["epoch_position"] = std::to_string(position_);
    file.metadata["z_dim"] = std::to_string(config_.z_dim);
    file.metadata["batch_size"] = std::to_string(config_.batch_size);
    file.metadata["seed"] = std::to_string(config_.seed);
    tinygan::save_safetensors(path, file);
}

void Dcgan::load(const tinygan::TensorFile& file, const std::string& source) {
    using tinygan::detail::concat;
    const Config saved = read_config(file, source);
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
    order_rng_ = epoch_start_rng_;  // the epoch's order, drawn again from the generator it came from
    start_epoch();
    position_ = position;
    steps_done_ = step;
}

std::string Dcgan::log_line(std::int64_t step, std::int64_t total_steps, const StepResult& r) const {
    const std::int64_t per_epoch = steps_per_epoch();
    const std::int64_t epochs = (total_steps + per_epoch - 1) / per_epoch;
    char line[160];
    std::snprintf(line, sizeof line, "Epoch %lld/%lld, batch %lld/%lld - D Loss: %.4f - G Loss: %.4f - D Acc: %.2f%%",
                  static_cast<long long>((step - 1) / per_epoch + 1), static_cast<long long>(epochs),
                  static_cast<long long>((step - 1) % per_epoch + 1), static_cast<long long>(per_epoch), r.d_loss,
                  r.g_loss, 100 * r.d_accuracy);
    return line;
}

}  // namespace dcgan
