// The definitions of tinygan/app's functions, for a program built with
// TINYGAN_SEPARATE_COMPILATION: include this in exactly one of its translation units (see
// compilation.hpp). Its two parts may also go into two units, to compile in parallel:
// <tinygan/app/impl/gan_program.ipp> and <tinygan/app/impl/sample_score.ipp>. Without that macro
// the headers include their definitions themselves.
#pragma once

#ifndef TINYGAN_SEPARATE_COMPILATION
#error "tinygan/app/implementation.hpp is for programs built with TINYGAN_SEPARATE_COMPILATION (see compilation.hpp)"
#endif

#include "impl/gan_program.ipp"
#include "impl/sample_score.ipp"
#include "impl/score_statistics.ipp"
