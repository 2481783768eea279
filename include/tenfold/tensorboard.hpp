// tenfold/tensorboard.hpp: all of tenfold/tenfold.hpp, plus tensorboard_logger (train/tensorboard.hpp), a fit()
// callback that writes TensorBoard event files. Separate from tenfold.hpp because it needs <filesystem>, which
// would add about a tenth to the parsing of every program that includes the library.
#pragma once
#ifndef TENFOLD_INSIDE_LIBRARY
#define TENFOLD_INSIDE_LIBRARY
#define TENFOLD_INSIDE_LIBRARY_DEFINED_BY_TENSORBOARD_HPP
#endif

#include "tenfold.hpp"
#include "train/tensorboard.hpp"

#ifdef TENFOLD_INSIDE_LIBRARY_DEFINED_BY_TENSORBOARD_HPP
#undef TENFOLD_INSIDE_LIBRARY
#undef TENFOLD_INSIDE_LIBRARY_DEFINED_BY_TENSORBOARD_HPP
#endif
