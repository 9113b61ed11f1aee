// The conditional DCGAN's construction and step (dcgan_step.ipp), in a translation unit of its own.
#include "dcgan_step.ipp"

namespace dcgan {

template class BasicDcgan<true>;

}  // namespace dcgan
