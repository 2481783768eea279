// tenfold/io.hpp: saving and loading, included after (or instead of) tenfold/tenfold.hpp. Kept out of
// tenfold.hpp so that programs that never touch a file do not compile the file formats.
//
//   save_safetensors(model, path) / load_safetensors(model, path)    PyTorch state_dict names and layouts
//   read_safetensors(path) / write_safetensors(path, tensors, meta)  the container, without a model
//   write_file_atomically(path, pieces)                              temporary file, fsync, rename
//   save_checkpoint / load_checkpoint, fit_with_checkpoints          resumable training
//   export_onnx(model, path)                                         the network as an ONNX graph (inference)
#pragma once
#include "tenfold.hpp"

#ifndef TENFOLD_INSIDE_LIBRARY
#define TENFOLD_INSIDE_LIBRARY
#define TENFOLD_IO_DEFINED_INSIDE
#endif

#include "io/atomic_file.hpp"
#include "io/safetensors.hpp"
#include "io/safetensors_file.hpp"
#include "io/checkpoint.hpp"
#include "io/onnx.hpp"

#ifdef TENFOLD_IO_DEFINED_INSIDE
#undef TENFOLD_INSIDE_LIBRARY
#undef TENFOLD_IO_DEFINED_INSIDE
#endif
