// Shapes: shape = the output shape of an elementwise kernel; each operand a strided view of it.
package ai.longconv4j.cuda;

import ai.longconv4j.backend.View;

/**
 * Packs (shape, operand strides and offsets) into the 46-int {@code Meta} struct of ewcommon.cuh, after dropping
 * size-1 dims and merging adjacent dims that are contiguous in every operand (most calls end with 1-2 dims).
 * Layout: {@code [nd, n, shape[8], st0[8], st1[8], st2[8], st3[8], off[4]]}; operand 0 is the output.
 */
final class StridedMeta {
  static final int MAXD = 8, INTS = 2 + MAXD + 4 * MAXD + 4;

  private StridedMeta() {}

  static int[] contiguous(int[] shape) {
    int[] st = new int[shape.length];
    int s = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      st[i] = s;
      s *= shape[i];
    }
    return st;
  }

  static int[] meta(int[] shape, View... ops) {
    int k = ops.length, nd = 0;
    long n = 1;
    int[] sh = new int[shape.length];
    int[][] st = new int[k][shape.length];
    for (int d = 0; d < shape.length; d++) {
      n *= shape[d];
      if (shape[d] == 1) continue;
      // merge into the previous kept dim when every operand steps through both as one run
      boolean merge = nd > 0;
      for (int j = 0; merge && j < k; j++) merge = st[j][nd - 1] == ops[j].strides()[d] * shape[d];
      if (merge) {
        sh[nd - 1] *= shape[d];
        for (int j = 0; j < k; j++) st[j][nd - 1] = ops[j].strides()[d];
      } else {
        sh[nd] = shape[d];
        for (int j = 0; j < k; j++) st[j][nd] = ops[j].strides()[d];
        nd++;
      }
    }
    if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("elementwise: " + n + " elements exceed the int range");
    if (nd > MAXD)
      throw new UnsupportedOperationException("elementwise: " + nd + " non-mergeable dims (at most " + MAXD + " on the GPU)");
    int[] m = new int[INTS];
    m[0] = nd;
    m[1] = (int) n;
    for (int d = 0; d < nd; d++) {
      m[2 + d] = sh[d];
      for (int j = 0; j < k; j++) m[2 + MAXD + j * MAXD + d] = st[j][d];
    }
    for (int j = 0; j < k; j++) m[2 + MAXD + 4 * MAXD + j] = ops[j].offset();
    return m;
  }
}
