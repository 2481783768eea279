// The compile-time half of tenfold, checked by the compiler: if this file builds, every rule below holds.
//
// Shapes, shape arithmetic, broadcasting, the shape and element type of every kind of expression node, the
// storage a tensor picks, and the things the concepts must refuse. Expected values are written from the rule
// (numpy broadcasting, row-major strides, std::common_type), not read back from the library.
#include <array>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/hana/at.hpp>
#include <boost/hana/size.hpp>
#include <tenfold/tenfold.hpp>

namespace {

using namespace tenfold;
using math::relu;

template <class A, class B>
inline constexpr bool same = std::is_same_v<A, B>;

// Operands as the expression operators see them: named (lvalue) tensors and views.
template <class T, std::size_t... E>
tensor<T, shape<E...>>& lvalue_tensor() {
  static tensor<T, shape<E...>> t;
  return t;
}
template <class E>
using shape_of = typename std::remove_cvref_t<E>::shape_type;
template <class E>
using value_of = typename std::remove_cvref_t<E>::value_type;

// --- shape: rank, size, extents, strides -------------------------------------------------------------------
using s234 = shape<2, 3, 4>;
static_assert(s234::rank == 3 && s234::size == 24);
static_assert(s234::extents == std::array<std::size_t, 3>{2, 3, 4});
static_assert(s234::strides == std::array<std::size_t, 3>{12, 4, 1});
static_assert(s234::extent<0>() == 2 && s234::extent<2>() == 4);
static_assert(shape<7>::strides == std::array<std::size_t, 1>{1});
static_assert(shape<1, 1, 5>::strides == std::array<std::size_t, 3>{5, 5, 1});
static_assert(scalar_shape::rank == 0 && scalar_shape::size == 1);
static_assert(same<scalar_shape, shape<>>);
static_assert(std::is_empty_v<s234>);
static_assert(flat_index<s234>({1, 2, 3}) == 1 * 12 + 2 * 4 + 3);
static_assert(flat_index<s234>({0, 0, 0}) == 0);
static_assert(flat_index<shape<5, 7>>({4, 6}) == shape<5, 7>::size - 1);
static_assert(std::remove_cvref_t<decltype(boost::hana::size(s234::extents_c))>::value == 3);
static_assert(std::remove_cvref_t<decltype(boost::hana::at_c<1>(s234::extents_c))>::value == 3);

// --- shape arithmetic ----------------------------------------------------------------------------------------
static_assert(same<remove_axis_t<s234, 0>, shape<3, 4>>);
static_assert(same<remove_axis_t<s234, 1>, shape<2, 4>>);
static_assert(same<remove_axis_t<s234, 2>, shape<2, 3>>);
static_assert(same<remove_axis_t<shape<9>, 0>, shape<>>);
static_assert(same<concat_t<shape<2>, shape<3, 4>>, s234>);
static_assert(same<concat_t<shape<>, shape<5>>, shape<5>>);
static_assert(same<concat_t<shape<5>, shape<>>, shape<5>>);
static_assert(same<concat_t<shape<>, shape<>>, shape<>>);

// --- the checks behind the static_asserts --------------------------------------------------------------------
static_assert(check::broadcastable<shape<2, 3>, shape<2, 3>>::value);
static_assert(check::broadcastable<shape<2, 3>, shape<3>>::value);
static_assert(check::broadcastable<shape<2, 3>, shape<1, 3>>::value);
static_assert(check::broadcastable<shape<2, 1>, shape<1, 3>>::value);
static_assert(check::broadcastable<shape<4, 1, 3>, shape<5, 1>>::value);
static_assert(check::broadcastable<shape<2, 3>, shape<>>::value);
static_assert(!check::broadcastable<shape<2, 3>, shape<3, 2>>::value);
static_assert(!check::broadcastable<shape<2, 3>, shape<2>>::value);  // trailing axes align: 3 against 2
static_assert(check::inner_extents_agree<shape<4, 5>, shape<5, 7>>::value);
static_assert(!check::inner_extents_agree<shape<4, 5>, shape<6, 7>>::value);
static_assert(!check::inner_extents_agree<shape<5>, shape<5, 7>>::value);
static_assert(check::same_size<shape<2, 3>, shape<6>>::value && !check::same_size<shape<2, 3>, shape<7>>::value);
static_assert(check::axis_in_range<shape<2, 3>, 1>::value && !check::axis_in_range<shape<2, 3>, 2>::value);
static_assert(check::reduction_axis_in_range<shape<2, 3>, all_axes>::value);
static_assert(!check::reduction_axis_in_range<shape<2, 3>, 2>::value);
static_assert(check::has_rank<shape<2, 3>, 2>::value && !check::has_rank<shape<6>, 2>::value);
static_assert(check::assignable_shapes<shape<3>, shape<3>>::value);
static_assert(check::assignable_shapes<shape<3>, shape<>>::value);
static_assert(!check::assignable_shapes<shape<4>, shape<3>>::value);
static_assert(!check::assignable_shapes<shape<2, 3>, shape<3>>::value);  // assignment does not broadcast

// --- broadcast shapes, through the operators -----------------------------------------------------------------
using m23 = decltype(lvalue_tensor<float, 2, 3>());
using v3 = decltype(lvalue_tensor<float, 3>());
using c21 = decltype(lvalue_tensor<float, 2, 1>());
using r13 = decltype(lvalue_tensor<float, 1, 3>());
using t413 = decltype(lvalue_tensor<float, 4, 1, 3>());
using m51 = decltype(lvalue_tensor<float, 5, 1>());
using d23 = decltype(lvalue_tensor<double, 2, 3>());
using i23 = decltype(lvalue_tensor<int, 2, 3>());

template <class A, class B>
using sum_t = decltype(std::declval<A>() + std::declval<B>());

static_assert(same<shape_of<sum_t<m23, m23>>, shape<2, 3>>);
static_assert(same<shape_of<sum_t<m23, v3>>, shape<2, 3>>);
static_assert(same<shape_of<sum_t<v3, m23>>, shape<2, 3>>);
static_assert(same<shape_of<sum_t<c21, r13>>, shape<2, 3>>);
static_assert(same<shape_of<sum_t<t413, m51>>, shape<4, 5, 3>>);
static_assert(same<shape_of<sum_t<m23, float>>, shape<2, 3>>);
static_assert(same<shape_of<sum_t<float, m23>>, shape<2, 3>>);
static_assert(same<typename detail::broadcast_shape<shape<4, 1, 3>, shape<5, 1>>::type, shape<4, 5, 3>>);
static_assert(same<typename detail::broadcast_shape<shape<>, shape<2>>::type, shape<2>>);

// --- element types: std::common_type of the operands ---------------------------------------------------------
static_assert(same<value_of<sum_t<m23, m23>>, float>);
static_assert(same<value_of<sum_t<m23, d23>>, std::common_type_t<float, double>>);
static_assert(same<value_of<sum_t<i23, m23>>, std::common_type_t<int, float>>);
// A plain number adopts the tensor's type: a double literal does not widen a float expression.
static_assert(same<value_of<sum_t<m23, int>>, float>);
static_assert(same<value_of<sum_t<m23, double>>, float>);
static_assert(same<value_of<sum_t<i23, i23>>, int>);

// Nodes hold their operands without padding: a sum of two views is two pointers.
static_assert(sizeof(detail::node_t<sum_t<m23, m23>>) == 2 * sizeof(float*));

// --- every kind of node: shape_type and value_type -----------------------------------------------------------
inline auto& a = lvalue_tensor<float, 2, 3>();
inline auto& b = lvalue_tensor<float, 2, 3>();
inline auto& w = lvalue_tensor<float, 3, 5>();
inline auto& bias = lvalue_tensor<float, 5>();
inline auto& cube = lvalue_tensor<double, 2, 3, 4>();
inline auto& vec = lvalue_tensor<float, 7>();

// Unary functions keep the operand's shape and type.
static_assert(same<shape_of<decltype(relu(a))>, shape<2, 3>> && same<value_of<decltype(relu(a))>, float>);
static_assert(same<shape_of<decltype(math::exp(cube))>, shape<2, 3, 4>>);
static_assert(same<value_of<decltype(math::exp(cube))>, double>);
static_assert(same<shape_of<decltype(-a)>, shape<2, 3>>);
static_assert(same<shape_of<decltype(math::max(a, 0.f))>, shape<2, 3>>);
static_assert(same<value_of<decltype(math::pow(a, 2.f))>, float>);

// Comparisons give masks of the common type, shaped like the broadcast operands.
static_assert(same<shape_of<decltype(a < b)>, shape<2, 3>> && same<value_of<decltype(a < b)>, float>);
static_assert(same<shape_of<decltype(a >= 0.f)>, shape<2, 3>>);
static_assert(same<value_of<decltype(cube == cube)>, double>);
static_assert(same<shape_of<decltype(a != bias.slice(0))>, shape<2, 3>>);  // a rank-0 view broadcasts like a number

// select: c's shape; the common type of the two branches.
static_assert(same<shape_of<decltype(select(a > b, a, 0.f))>, shape<2, 3>>);
static_assert(same<value_of<decltype(select(a > b, a, 0.0))>, float>);
static_assert(same<shape_of<decltype(select(cube > 0.0, 1.0, cube))>, shape<2, 3, 4>>);

// Reductions remove their axis; all_axes leaves a rank-0 expression.
static_assert(same<shape_of<decltype(sum<0>(a))>, shape<3>>);
static_assert(same<shape_of<decltype(sum<1>(a))>, shape<2>>);
static_assert(same<shape_of<decltype(sum(a))>, shape<>>);
static_assert(same<shape_of<decltype(mean<1>(cube))>, shape<2, 4>> && same<value_of<decltype(mean<1>(cube))>, double>);
static_assert(same<shape_of<decltype(max<2>(cube))>, shape<2, 3>>);
static_assert(same<shape_of<decltype(min<0>(cube))>, shape<3, 4>>);
static_assert(same<shape_of<decltype(argmax<1>(a))>, shape<2>> && same<value_of<decltype(argmax<1>(a))>, float>);
static_assert(same<shape_of<decltype(sum<1>(a * b))>, shape<2>>);
static_assert(same<shape_of<decltype(sum<0>(sum<2>(cube)))>, shape<3>>);
static_assert(same<shape_of<decltype(dot(vec, vec))>, shape<>>);

// matmul: [M, K] x [K, N] -> [M, N]; transpose swaps the two extents.
static_assert(same<shape_of<decltype(matmul(a, w))>, shape<2, 5>>);
static_assert(same<value_of<decltype(matmul(a, w))>, float>);
static_assert(same<value_of<decltype(matmul(lvalue_tensor<double, 2, 3>(), w))>, std::common_type_t<double, float>>);
static_assert(same<shape_of<decltype(transpose(a))>, shape<3, 2>>);
static_assert(same<shape_of<decltype(transpose(transpose(a)))>, shape<2, 3>>);
static_assert(same<shape_of<decltype(matmul(transpose(a), a))>, shape<3, 3>>);
static_assert(same<shape_of<decltype(relu(matmul(a, w) + bias))>, shape<2, 5>>);
static_assert(same<shape_of<decltype(matmul(matmul(a, w), transpose(w)))>, shape<2, 3>>);

// reshape keeps the element count; a reshaped view is still a view (a plain pointer for GEMM and CUDA).
static_assert(same<shape_of<decltype(reshaped<shape<6>>(a))>, shape<6>>);
static_assert(is_view<decltype(reshaped<shape<3, 2>>(a))>::value);
static_assert(!is_view<decltype(reshaped<shape<6>>(a + b))>::value);
static_assert(same<shape_of<decltype(reshaped<shape<6>>(a + b))>, shape<6>>);
static_assert(same<shape_of<decltype(flattened(cube))>, shape<24>> && same<value_of<decltype(flattened(cube))>, double>);
static_assert(same<shape_of<decltype(flattened(a * 2.f))>, shape<6>>);

// Views: slicing drops the first axis; a view of T converts to a view of const T, never back.
static_assert(same<decltype(a.slice(0)), view<float, shape<3>>>);
static_assert(same<decltype(cube.slice(1).slice(2)), view<double, shape<4>>>);
static_assert(std::is_convertible_v<view<float, shape<3>>, view<const float, shape<3>>>);
static_assert(!std::is_convertible_v<view<const float, shape<3>>, view<float, shape<3>>>);
static_assert(same<value_of<view<const float, shape<3>>>, float>);

// --- which products assignment fuses (expr/traverse.hpp) -----------------------------------------------------
template <class E>
using node_of = detail::node_t<E>;
static_assert(detail::has_product_v<node_of<decltype(matmul(a, w))>>);
static_assert(detail::has_product_v<node_of<decltype(relu(matmul(a, w) + bias))>>);
static_assert(!detail::has_product_v<node_of<decltype(relu(a + b))>>);
// A product under a reduction is not in epilogue position, but it is still a product to materialise.
static_assert(!detail::has_product_v<node_of<decltype(sum<0>(matmul(a, w)))>>);
static_assert(detail::contains_product_v<node_of<decltype(sum<0>(matmul(a, w)))>>);
static_assert(!detail::contains_product_v<node_of<decltype(sum<0>(a * b))>>);

// --- storage: static up to TENFOLD_STATIC_STORAGE_BYTES, heap above ------------------------------------------
constexpr std::size_t floats_that_fit = TENFOLD_STATIC_STORAGE_BYTES / sizeof(float);
static_assert(is_heap_free_v<auto_storage, float, floats_that_fit>);
static_assert(!is_heap_free_v<auto_storage, float, floats_that_fit + 1>);
static_assert(is_heap_free_v<static_storage, double, 1000000>);
static_assert(!is_heap_free_v<heap_storage, float, 1>);
static_assert(same<storage_buffer_t<auto_storage, float, 16>, static_storage::buffer<float, 16>>);
static_assert(
    same<storage_buffer_t<auto_storage, float, floats_that_fit + 1>, heap_storage::buffer<float, floats_that_fit + 1>>);
static_assert(alignof(tensor<float, shape<3>>) == TENFOLD_ALIGNMENT);
static_assert(sizeof(tensor<float, shape<32, 32>>) == 32 * 32 * sizeof(float));  // elements inside, nothing else
static_assert(sizeof(tensor<float, shape<1000, 1000>>) == sizeof(void*));        // one pointer to the heap
static_assert(same<tensor<float, shape<3>>::storage_policy, auto_storage>);

// --- expression trees are small values, passed by copy into CUDA kernels -------------------------------------
static_assert(std::is_trivially_copy_constructible_v<node_of<decltype(relu(matmul(a, w) + bias))>>);
static_assert(std::is_trivially_destructible_v<node_of<decltype(select(a > b, sum<0>(a), 1.f))>>);

// --- categories: what the concepts accept and refuse ---------------------------------------------------------
static_assert(Shape<shape<1>> && Shape<shape<>> && !Shape<int> && !Shape<std::array<std::size_t, 2>>);
static_assert(Expression<tensor<float, shape<2>>> && Expression<view<const float, shape<2>>>);
static_assert(Expression<decltype(a + b)> && Expression<const tensor<float, shape<2>>&>);
static_assert(!Expression<float> && !Expression<float*> && !Expression<std::vector<float>>);
static_assert(Operand<float> && Operand<int> && Operand<const double&> && Operand<decltype(a)>);
static_assert(!Operand<std::string> && !Operand<std::vector<float>> && !Operand<float*> && !Operand<void*>);

// Negative checks. An operation that tenfold does not offer for some operand types must be absent from the
// overload set (so that `requires` and other libraries' overloads see through it), not a hard error inside
// tenfold. Each check is a template so that the requirement is tested, not compiled outright.
template <class A, class B>
concept adds = requires(A x, B y) { x + y; };
template <class A, class B>
concept multiplies = requires(A x, B y) { x * y; };
template <class A, class B>
concept subtracts = requires(A x, B y) { x - y; };
template <class A, class B>
concept multiplies_matrices = requires(A x, B y) { matmul(x, y); };
template <class A>
concept transposes = requires(A x) { transpose(x); };
template <class A>
concept sums = requires(A x) { tenfold::sum(x); };
template <class A>
concept flattens = requires(A x) { flattened(x); };
template <class A>
concept rectifies = requires(A x) { relu(x); };
template <class C, class A, class B>
concept selects = requires(C c, A x, B y) { select(c, x, y); };
template <class V, class... I>
concept indexes = requires(V v, I... i) { v(i...); };
template <class V>
concept slices = requires(V v) { v.slice(0); };

using mask23 = decltype(a > b);
static_assert(adds<m23, m23> && adds<m23, float> && adds<double, m23>);
static_assert(!adds<m23, std::string> && !multiplies<std::string, m23> && !subtracts<m23, std::vector<float>>);
static_assert(!adds<m23, float*>);
static_assert(multiplies_matrices<m23, decltype(w)> && !multiplies_matrices<float, m23>);
static_assert(!multiplies_matrices<m23, std::vector<float>>);
static_assert(transposes<m23> && !transposes<float> && !transposes<std::string>);
static_assert(sums<m23> && !sums<double>);
static_assert(flattens<m23> && !flattens<double>);
static_assert(rectifies<m23> && !rectifies<std::string> && !rectifies<float>);
static_assert(selects<mask23, m23, float> && !selects<float, m23, m23>);  // the condition must be an expression
static_assert(!selects<mask23, std::string, float>);
// Indexing takes exactly one index per axis, and only rank >= 1 views slice.
static_assert(indexes<view<float, shape<2, 3>>, int, int>);
static_assert(!indexes<view<float, shape<2, 3>>, int> && !indexes<view<float, shape<2, 3>>, int, int, int>);
static_assert(!indexes<view<float, shape<2, 3>>, int, std::string>);
static_assert(slices<view<float, shape<2>>> && !slices<view<float, shape<>>>);

// The same, spelled as a constraint on a declaration: this variable exists only for operands operator+ refuses.
template <class T>
  requires(!requires(T x) { a + x; })
inline constexpr bool refused_by_plus = true;
static_assert(refused_by_plus<std::string> && refused_by_plus<std::vector<float>>);

// An expression node is read-only: it has no elements to assign to.
static_assert(!std::is_assignable_v<decltype(a + b)&, m23>);

}  // namespace

int main() { return 0; }
