// The unconditional DCGAN's construction and step (dcgan_step.ipp), compiled once for the program,
// its tests and the benchmarks; the conditional one is conditional_dcgan.cpp.
#include "dcgan_step.ipp"

namespace dcgan {

template class BasicDcgan<false>;

}  // namespace dcgan
