// How tinygan/app is compiled. By default it is header-only, like the library: a program includes
// gan_program.hpp and is done. With TINYGAN_SEPARATE_COMPILATION (tinygan/implementation.hpp) its
// headers hold declarations only, and <tinygan/app/implementation.hpp> holds the definitions, for
// exactly one translation unit of the program: what a harness of a few thousand lines of
// instantiated templates costs to compile is then paid once, not in every unit that uses it.
#pragma once

#ifdef TINYGAN_SEPARATE_COMPILATION
#define TINYGAN_APP_INLINE
#else
#define TINYGAN_APP_INLINE inline
#endif
