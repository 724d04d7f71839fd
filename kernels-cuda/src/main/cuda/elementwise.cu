// Strided n-d elementwise kernels of the tensor backend, forward and backward side by side.
// Shapes: any n-d shape (collapsed to <= 8 dims on the host); every operand is a strided view (Meta);
//   operand 0 is the output.  T in {f64, f32, bf16, f16}; bf16/f16 compute in fp32 registers, f64 in f64.
//   ew_copy_S_D:      dst = convert(src)                     (operands: dst, src)
//   ew_fill_T:        dst = v                                (dst)
//   ew_unary_T:       y = f_op(x; p)                         (y, x)        -- forward
//   ew_unary_grad_T:  dx = g * f'_op(x, y; p)                (dx, x, y, g) -- its backward
//   ew_binary_T:      out = a (+ - * /) b                    (out, a, b)   -- gradients are composed in Java
//   ew_select_T:      out = cond != 0 ? a : b                (out, cond, a, b)
// Unary op codes = ai.longconv4j.backend.UnaryOp ordinals; binary codes = ElementwiseKernels.Arith ordinals.
#include "ewcommon.cuh"

template <typename A> __device__ __forceinline__ A phi_cdf(A x) { return (A)0.5 * erfc(-x * (A)0.70710678118654752440); }

template <typename A>
__device__ __forceinline__ A unary_f(int op, A x, A p) {
  const A c = (A)0.79788456080286535588;  // sqrt(2/pi)
  switch (op) {
    case 0: return x * p;                                              // SCALE
    case 1: return x + p;                                              // SHIFT
    case 2: return exp(x);                                             // EXP
    case 3: return log(x);                                             // LOG
    case 4: return tanh(x);                                            // TANH
    case 5: { if (x >= 0) return (A)1 / ((A)1 + exp(-x)); A e = exp(x); return e / ((A)1 + e); }  // SIGMOID
    case 6: return x > 0 ? x : (A)0;                                   // RELU
    case 7: return x * phi_cdf(x);                                     // GELU (erf)
    case 8: { A t = tanh(c * (x + (A)0.044715 * x * x * x)); return (A)0.5 * x * ((A)1 + t); }  // GELU_TANH
    case 9: return sqrt(x);                                            // SQRT
    case 10: return fabs(x);                                           // ABS
    case 11: return x > 0 ? (A)1 : (x < 0 ? (A)-1 : x);                // SIGN (keeps 0 and NaN)
    case 12: return pow(x, p);                                         // POW
    case 13: return x > p ? x : p;                                     // MAXIMUM
  }
  return (A)NAN;
}

template <typename A>
__device__ __forceinline__ A unary_df(int op, A x, A y, A p) {
  const A c = (A)0.79788456080286535588;
  switch (op) {
    case 0: return p;
    case 1: return (A)1;
    case 2: return y;
    case 3: return (A)1 / x;
    case 4: return (A)1 - y * y;
    case 5: return y * ((A)1 - y);
    case 6: return x > 0 ? (A)1 : (A)0;
    case 7: return phi_cdf(x) + x * (A)0.39894228040143267794 * exp((A)-0.5 * x * x);
    case 8: { A t = tanh(c * (x + (A)0.044715 * x * x * x));
              return (A)0.5 * ((A)1 + t) + (A)0.5 * x * ((A)1 - t * t) * c * ((A)1 + (A)3 * (A)0.044715 * x * x); }
    case 9: return (A)0.5 / y;
    case 10: return x > 0 ? (A)1 : (x < 0 ? (A)-1 : x);
    case 11: return (A)0;
    case 12: return p == 0 ? (A)0 : p * pow(x, p - (A)1);
    case 13: return x > p ? (A)1 : (A)0;
  }
  return (A)NAN;
}

template <typename S, typename D>
__device__ void copy_k(const Meta& m, const S* src, D* dst) {
  EW_FOR(m.n) { int o[2]; ew_offsets<2>(m, (int)_i, o); st(dst, o[0], (double)ld(src, o[1])); }
}

template <typename T>
__device__ void fill_k(const Meta& m, T* dst, double v) {
  EW_FOR(m.n) { int o[1]; ew_offsets<1>(m, (int)_i, o); st(dst, o[0], v); }
}

template <typename T>
__device__ void unary_k(const Meta& m, const T* x, T* y, int op, double p) {
  typedef typename Acc<T>::type A;
  EW_FOR(m.n) { int o[2]; ew_offsets<2>(m, (int)_i, o); st(y, o[0], (double)unary_f<A>(op, (A)ld(x, o[1]), (A)p)); }
}

template <typename T>
__device__ void unary_grad_k(const Meta& m, const T* x, const T* y, const T* g, T* dx, int op, double p) {
  typedef typename Acc<T>::type A;
  EW_FOR(m.n) {
    int o[4]; ew_offsets<4>(m, (int)_i, o);
    st(dx, o[0], (double)((A)ld(g, o[3]) * unary_df<A>(op, (A)ld(x, o[1]), (A)ld(y, o[2]), (A)p)));
  }
}

template <typename T>
__device__ void binary_k(const Meta& m, const T* a, const T* b, T* out, int op) {
  typedef typename Acc<T>::type A;
  EW_FOR(m.n) {
    int o[3]; ew_offsets<3>(m, (int)_i, o);
    const A x = ld(a, o[1]), y = ld(b, o[2]);
    st(out, o[0], (double)(op == 0 ? x + y : op == 1 ? x - y : op == 2 ? x * y : x / y));
  }
}

template <typename T>
__device__ void select_k(const Meta& m, const T* cond, const T* a, const T* b, T* out) {
  EW_FOR(m.n) {
    int o[4]; ew_offsets<4>(m, (int)_i, o);
    st(out, o[0], ld(cond, o[1]) != 0 ? (double)ld(a, o[2]) : (double)ld(b, o[3]));
  }
}

#define EW_TYPES(X) X(f64, double) X(f32, float) X(bf16, __nv_bfloat16) X(f16, __half)

#define EW_PER_TYPE(tag, T)                                                                                  \
  extern "C" __global__ void ew_fill_##tag(Meta m, T* dst, double v) { fill_k(m, dst, v); }                 \
  extern "C" __global__ void ew_unary_##tag(Meta m, const T* x, T* y, int op, double p) {                   \
    unary_k(m, x, y, op, p); }                                                                               \
  extern "C" __global__ void ew_unary_grad_##tag(Meta m, const T* x, const T* y, const T* g, T* dx, int op, \
                                                 double p) { unary_grad_k(m, x, y, g, dx, op, p); }         \
  extern "C" __global__ void ew_binary_##tag(Meta m, const T* a, const T* b, T* out, int op) {              \
    binary_k(m, a, b, out, op); }                                                                            \
  extern "C" __global__ void ew_select_##tag(Meta m, const T* c, const T* a, const T* b, T* out) {          \
    select_k(m, c, a, b, out); }
EW_TYPES(EW_PER_TYPE)

#define EW_COPY(stag, S, dtag, D) \
  extern "C" __global__ void ew_copy_##stag##_##dtag(Meta m, const S* src, D* dst) { copy_k(m, src, dst); }
#define EW_COPY_FROM(stag, S) EW_COPY(stag, S, f64, double) EW_COPY(stag, S, f32, float) \
  EW_COPY(stag, S, bf16, __nv_bfloat16) EW_COPY(stag, S, f16, __half)
EW_TYPES(EW_COPY_FROM)
