// The layer tests of the device model (agreement_layers.hpp) on the host emulation of the CUDA runtime.
#include "net_emulated.hpp"

#include "agreement_layers.hpp"
