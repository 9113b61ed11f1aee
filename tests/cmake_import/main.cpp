// Builds a model with the installed tinygan and trains it for two steps; exits non-zero on failure.
#include <tinygan/gan.hpp>

#include <cmath>
#include <cstdio>

int main() {
    tinygan::Rng rng(1);
    auto model = tinygan::make_sequential("consumer", tinygan::Dense<float>(4, 8, rng), tinygan::ReLU<float>{},
                                          tinygan::Dense<float>(8, 1, rng), tinygan::Sigmoid<float>{});
    tinygan::Adam<float> optimizer(model);
    tinygan::BinaryCrossEntropy<float> loss;
    tinygan::Matrix<float> x(4, 16), y = tinygan::Matrix<float>::Ones(1, 16);
    rng.fill_normal(x);
    tinygan::train_on_batch(model, loss, optimizer, x, y);  // an unoptimised build says so once, not per step
    const auto result = tinygan::train_on_batch(model, loss, optimizer, x, y);
    std::printf("consumer: loss %.4f, tinygan %d.%d.%d\n", result.loss, TINYGAN_VERSION_MAJOR, TINYGAN_VERSION_MINOR,
                TINYGAN_VERSION_PATCH);
    return std::isfinite(result.loss) ? 0 : 1;
}
