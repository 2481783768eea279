// Exporting to ONNX needs every stage to map to ONNX operators; attention inside a residual block has no
// mapping. The sentence says so, and the note names that stage, not the block around it.
// expect: tenfold::export_onnx: a layer of this network has no ONNX mapping
// expect: stage_exports_to_onnx<tenfold::detail::attention_stage<2, tenfold::causal
#include <tenfold/tenfold.hpp>
#include <tenfold/io.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using inner = dense<8>;
#else
using inner = multi_head_attention<2, causal>;
#endif
using net = sequential<input<5, 8>, dense<8>, residual<inner>, dense<2>>;

int main() {
  model<net, 2> m;
  export_onnx(m, "net.onnx");
  return 0;
}
