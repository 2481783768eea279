// Token ids travel in the model's element type, and float holds integers exactly only up to 2^24: an
// embedding with a larger vocabulary needs a double model.
// expect: tenfold::embedding: the element type cannot hold every id of this vocabulary exactly
// expect: token_ids_exact_in<float, 16777217>
#include <tenfold/tenfold.hpp>

using namespace tenfold;
#ifdef TENFOLD_OK
using stage = tenfold::detail::embedding_stage<(std::size_t{1} << 24) + 1, 1, init::zeros, shape<2>, double>;
#else
using stage = tenfold::detail::embedding_stage<(std::size_t{1} << 24) + 1, 1, init::zeros, shape<2>, float>;
#endif

int main() { return static_cast<int>(stage::param_count % 2); }
