// Shape legend: shapes are int[] in row-major order; an empty shape [] is a scalar.
package ai.longconv4j.tensor;

import java.util.Arrays;

/** Shape arithmetic: element counts, row-major strides, numpy broadcasting, axis normalization. */
public final class Shapes {
    private Shapes() {}

    /** Number of elements; 1 for a scalar shape. */
    public static int numel(int[] shape) {
        long n = 1;
        for (int s : shape) n *= s;
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("shape " + str(shape) + " has more than 2^31-1 elements");
        return (int) n;
    }

    /** Row-major (C-order) strides of a contiguous tensor of this shape. */
    public static int[] contiguousStrides(int[] shape) {
        int[] st = new int[shape.length];
        int s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            st[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return st;
    }

    /** Whether strides lay shape out row-major with no gaps (dimensions of size 1 take any stride). */
    public static boolean isContiguous(int[] shape, int[] strides) {
        long expect = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 1) continue;
            if (strides[i] != expect) return false;
            expect *= shape[i];
        }
        return true;
    }

    /** Checks a user-given shape (no negative sizes) and returns a copy. */
    public static int[] check(String op, int[] shape) {
        for (int s : shape)
            if (s < 0) throw new IllegalArgumentException(op + ": negative size in shape " + str(shape));
        return shape.clone();
    }

    /**
     * The numpy broadcast of two shapes: align on the right, each pair of sizes must be equal or one of
     * them 1.
     *
     * @throws IllegalArgumentException "add: shapes [2, 3] and [4] cannot be broadcast"
     */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int n = Math.max(a.length, b.length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int da = i - (n - a.length) >= 0 ? a[i - (n - a.length)] : 1;
            int db = i - (n - b.length) >= 0 ? b[i - (n - b.length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b) + " cannot be broadcast");
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /**
     * Strides that read a tensor of {@code shape}/{@code strides} as if it had the (broadcast) shape
     * {@code target}: missing leading dims and size-1 dims get stride 0.
     */
    public static int[] broadcastStrides(int[] shape, int[] strides, int[] target) {
        int[] out = new int[target.length];
        int lead = target.length - shape.length;
        for (int i = 0; i < shape.length; i++)
            out[lead + i] = shape[i] == 1 && target[lead + i] != 1 ? 0 : strides[i];
        return out;
    }

    /** A negative axis counts from the end. */
    public static int axis(String op, int axis, int dim) {
        int a = axis < 0 ? axis + dim : axis;
        if (a < 0 || a >= dim)
            throw new IllegalArgumentException(op + ": axis " + axis + " out of range for a tensor of dim " + dim);
        return a;
    }

    public static String str(int[] shape) { return Arrays.toString(shape); }
}
