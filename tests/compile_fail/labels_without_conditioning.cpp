// Must not compile: labels given to a model that has no conditioning layer (they would be
// ignored). The error must say to call it without them.
#include <tinygan/gan.hpp>

int main() {
    tinygan::Rng rng(1);
    auto model = tinygan::make_sequential("d", tinygan::Dense<float>(4, 1, rng), tinygan::Sigmoid<float>{});
    tinygan::Adam<float> adam(model);
    tinygan::BinaryCrossEntropy<float> loss;
    const tinygan::Matrix<float> x = tinygan::Matrix<float>::Zero(4, 2), y = tinygan::Matrix<float>::Ones(1, 2);
    const tinygan::Labels labels = tinygan::Labels::Zero(2);
    return static_cast<int>(tinygan::train_on_batch(model, loss, adam, x, y, labels).loss);
}
