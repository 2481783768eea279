// The whole-model tests of the device model (agreement_models.hpp) on the host emulation of the CUDA runtime.
#include "net_emulated.hpp"

#include "agreement_models.hpp"
