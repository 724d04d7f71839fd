// Fused optimizer updates of the tensor backend (one kernel per parameter instead of ~12 elementwise ops).
// Shapes: p, g, m, v and the outputs: n elements each, contiguous from their element offsets.
//   adamw_T: p1 = p (1 - lr wd); m' = b1 m + (1 - b1) g; v' = b2 v + (1 - b2) g^2;
//            p' = p1 - (lr / bc1) m' / (sqrt(v' / bc2) + eps)      (bc1 = 1 - b1^t, bc2 = 1 - b2^t)
// The same formula, in the same order, as ai.longconv4j.optim.AdamW's composed ops; computed in fp32 registers
// (f64 for F64) and rounded once per output.
#include "ewcommon.cuh"

template <typename T>
__device__ void adamw_k(const T* p, int po, const T* g, int go, const T* m, int mo, const T* v, int vo,
                        T* pn, int pno, T* mn, int mno, T* vn, int vno, int n,
                        double lr, double wd, double b1, double b2, double eps, double bc1, double bc2) {
  typedef typename Acc<T>::type A;
  EW_FOR(n) {
    const int i = (int)_i;
    const A gi = ld(g, go + i);
    const A p1 = (A)ld(p, po + i) * (A)(1 - lr * wd);
    const A m1 = (A)ld(m, mo + i) * (A)b1 + gi * (A)(1 - b1);
    const A v1 = (A)ld(v, vo + i) * (A)b2 + gi * gi * (A)(1 - b2);
    const A denom = sqrt(v1 / (A)bc2) + (A)eps;
    st(pn, pno + i, (double)(p1 - m1 / denom * (A)(lr / bc1)));
    st(mn, mno + i, (double)m1);
    st(vn, vno + i, (double)v1);
  }
}

#define OPT_PER_TYPE(tag, T)                                                                                   \
  extern "C" __global__ void adamw_##tag(const T* p, int po, const T* g, int go, const T* m, int mo, const T* v,  \
      int vo, T* pn, int pno, T* mn, int mno, T* vn, int vno, int n, double lr, double wd, double b1, double b2,   \
      double eps, double bc1, double bc2) {                                                                      \
    adamw_k(p, po, g, go, m, mo, v, vo, pn, pno, mn, mno, vn, vno, n, lr, wd, b1, b2, eps, bc1, bc2); }
OPT_PER_TYPE(f64, double)
OPT_PER_TYPE(f32, float)
OPT_PER_TYPE(bf16, __nv_bfloat16)
OPT_PER_TYPE(f16, __half)
