// tinygan's products, compiled once for every program built here, which are built with
// TINYGAN_SEPARATE_COMPILATION (tinygan/implementation.hpp).
#include <tinygan/implementation.hpp>
