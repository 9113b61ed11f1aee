// The program harness (tinygan/app), compiled once for every program built here, which are built
// with TINYGAN_SEPARATE_COMPILATION (tinygan/app/compilation.hpp): the commands and the loop.
#include <tinygan/app/impl/gan_program.ipp>
