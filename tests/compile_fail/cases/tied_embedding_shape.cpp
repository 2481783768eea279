// tied_embedding<Vocab, Dim, Layers...> projects its inner layers' output back onto the vocabulary with its
// embedding table, so those layers must give back [N, Dim]: here dense<6> turns 4 values into 6. The note
// names the path and both shapes.
// expect: tenfold::sequential: a layer cannot take the shape of its input
// expect: path<tenfold::check::at<1>, tenfold::check::in_tied_embedding>
// expect: tied_layers_keep_shape<tenfold::shape<3, 4>, tenfold::shape<3, 6> >
#include <tenfold/tenfold.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using net = sequential<tokens<3>, tied_embedding<5, 4, dense<4>, relu>, softmax>;
#else
using net = sequential<tokens<3>, tied_embedding<5, 4, dense<6>, relu>, softmax>;
#endif

int main() {
  model<net, 2> m;
  return static_cast<int>(m.param_count % 2);
}
