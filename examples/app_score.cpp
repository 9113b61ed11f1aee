// The program harness (tinygan/app), compiled once for every program built here, which are built
// with TINYGAN_SEPARATE_COMPILATION (tinygan/app/compilation.hpp): the sample score.
#include <tinygan/app/impl/sample_score.ipp>
