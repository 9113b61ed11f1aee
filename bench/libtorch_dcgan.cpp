// The PyTorch C++ frontend's DCGAN example (pytorch/examples, cpp/dcgan), rebuilt here step for
// step as the libtorch peer of tinygan's examples/dcgan (bench/README.md): the same models, Adam
// 2e-4 with betas (0.5, 0.5), labels, loss and update order. MNIST is read from the same IDX file
// as tinygan reads it; batches of 64 in a new random order every epoch. (tinygan's generator
// learns at 5e-4 by default, the example's at 2e-4; a rate does not change a step's work.)
//
//   libtorch_dcgan --data DIR [--threads N] [--steps N] [--warmup N]
// Prints "libtorch ms_per_step=<median> ...".
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

torch::Tensor load_images(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), {});
    if (bytes.size() < 16 || bytes[2] != 8 || bytes[3] != 3) {
        std::fprintf(stderr, "libtorch_dcgan: %s is not an unsigned-byte 3-D IDX file\n", path.c_str());
        std::exit(1);
    }
    const int64_t n = (int64_t(bytes[4]) << 24) | (bytes[5] << 16) | (bytes[6] << 8) | bytes[7];
    auto images = torch::from_blob(bytes.data() + 16, {n, 1, 28, 28}, torch::kUInt8).clone();
    return images.to(torch::kFloat32).div_(127.5).sub_(1.0);  // Normalize(0.5, 0.5) on [0, 1]
}

}  // namespace

int main(int argc, char** argv) {
    std::string data = "data/mnist";
    int threads = 1, steps = 20, warmup = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--data") data = argv[i + 1];
        else if (flag == "--threads") threads = std::atoi(argv[i + 1]);
        else if (flag == "--steps") steps = std::atoi(argv[i + 1]);
        else if (flag == "--warmup") warmup = std::atoi(argv[i + 1]);
    }
    torch::manual_seed(1);
    torch::set_num_threads(threads);
    namespace nn = torch::nn;
    const int64_t noise_size = 100, batch = 64;

    nn::Sequential generator(
        nn::ConvTranspose2d(nn::ConvTranspose2dOptions(noise_size, 256, 4).bias(false)), nn::BatchNorm2d(256), nn::ReLU(),
        nn::ConvTranspose2d(nn::ConvTranspose2dOptions(256, 128, 3).stride(2).padding(1).bias(false)), nn::BatchNorm2d(128), nn::ReLU(),
        nn::ConvTranspose2d(nn::ConvTranspose2dOptions(128, 64, 4).stride(2).padding(1).bias(false)), nn::BatchNorm2d(64), nn::ReLU(),
        nn::ConvTranspose2d(nn::ConvTranspose2dOptions(64, 1, 4).stride(2).padding(1).bias(false)), nn::Tanh());
    nn::Sequential discriminator(
        nn::Conv2d(nn::Conv2dOptions(1, 64, 4).stride(2).padding(1).bias(false)), nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)),
        nn::Conv2d(nn::Conv2dOptions(64, 128, 4).stride(2).padding(1).bias(false)), nn::BatchNorm2d(128),
        nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)),
        nn::Conv2d(nn::Conv2dOptions(128, 256, 4).stride(2).padding(1).bias(false)), nn::BatchNorm2d(256),
        nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)),
        nn::Conv2d(nn::Conv2dOptions(256, 1, 3).stride(1).padding(0).bias(false)), nn::Sigmoid());
    torch::optim::Adam g_optimizer(generator->parameters(), torch::optim::AdamOptions(2e-4).betas(std::make_tuple(0.5, 0.5)));
    torch::optim::Adam d_optimizer(discriminator->parameters(), torch::optim::AdamOptions(2e-4).betas(std::make_tuple(0.5, 0.5)));

    const torch::Tensor images = load_images(data + "/train-images-idx3-ubyte");
    const int64_t batches = images.size(0) / batch;
    torch::Tensor order = torch::randperm(images.size(0));
    int64_t position = 0;
    float d_value = 0, g_value = 0;
    auto step = [&] {
        if (position == batches) {
            order = torch::randperm(images.size(0));
            position = 0;
        }
        const torch::Tensor real_images = images.index_select(0, order.narrow(0, position++ * batch, batch));
        discriminator->zero_grad();
        const torch::Tensor real_labels = torch::empty(batch).uniform_(0.8, 1.0);
        torch::Tensor d_loss_real = torch::binary_cross_entropy(discriminator->forward(real_images).view(-1), real_labels);
        d_loss_real.backward();
        const torch::Tensor noise = torch::randn({batch, noise_size, 1, 1});
        const torch::Tensor fake_images = generator->forward(noise);
        torch::Tensor fake_labels = torch::zeros(batch);
        torch::Tensor d_loss_fake = torch::binary_cross_entropy(discriminator->forward(fake_images.detach()).view(-1), fake_labels);
        d_loss_fake.backward();
        d_optimizer.step();
        generator->zero_grad();
        fake_labels.fill_(1);
        torch::Tensor g_loss = torch::binary_cross_entropy(discriminator->forward(fake_images).view(-1), fake_labels);
        g_loss.backward();
        g_optimizer.step();
        d_value = d_loss_real.item<float>() + d_loss_fake.item<float>();
        g_value = g_loss.item<float>();
    };
    for (int i = 0; i < warmup; ++i) step();
    std::vector<double> times;
    for (int i = 0; i < steps; ++i) {
        const auto start = std::chrono::steady_clock::now();
        step();
        times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(times.begin(), times.end());
    std::printf("libtorch threads=%d steps=%d ms_per_step=%.2f mkldnn=%d final_d_loss=%.4f final_g_loss=%.4f\n", threads,
                steps, 1000 * times[times.size() / 2], int(torch::cuda::is_available() ? 0 : at::globalContext().userEnabledMkldnn()),
                d_value, g_value);
}
