// Must not compile: a conditional model (one holding a conditioning layer) trained without the
// batch's labels. The error must say to pass them.
#include <tinygan/gan.hpp>

int main() {
    tinygan::Rng rng(1);
    auto model = tinygan::make_sequential(
        "d", tinygan::LabelMultiply<float>({4}, tinygan::Embedding<float>(10, 4, rng)), tinygan::Dense<float>(4, 1, rng),
        tinygan::Sigmoid<float>{});
    tinygan::Adam<float> adam(model);
    tinygan::BinaryCrossEntropy<float> loss;
    const tinygan::Matrix<float> x = tinygan::Matrix<float>::Zero(4, 2), y = tinygan::Matrix<float>::Ones(1, 2);
    return static_cast<int>(tinygan::train_on_batch(model, loss, adam, x, y).loss);
}
