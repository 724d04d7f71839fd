// Shape legend: logits (N, V) for crossEntropy (N rows, V classes); ids/idShape for embeddings;
// softmax-family ops normalize along one axis and keep the input's shape.
package ai.longconv4j.tensor;

import ai.longconv4j.backend.DropoutMaskBackend;
import ai.longconv4j.backend.DropoutMasks;
import ai.longconv4j.backend.cpu.CpuStorage;

import java.util.random.RandomGenerator;

/** Ops composed from the primitives (their gradients follow from the primitives' rules). */
final class Composite {
    private Composite() {}

    static Tensor mean(Tensor x) {
        return x.sum().div(Math.max(1, x.numel()));
    }

    static Tensor mean(Tensor x, int axis, boolean keepDim) {
        int n = x.size(axis);
        return x.sum(axis, keepDim).div(Math.max(1, n));
    }

    /** log softmax = z - log(sum(exp(z))) with z = x - max(x) (max detached: it cancels in the gradient). */
    static Tensor logSoftmax(Tensor x, int axis) {
        Tensor m = x.detach().max(axis, true);
        Tensor z = x.sub(m);
        return z.sub(z.exp().sum(axis, true).log());
    }

    static Tensor softmax(Tensor x, int axis) {
        Tensor m = x.detach().max(axis, true);
        Tensor e = x.sub(m).exp();
        return e.div(e.sum(axis, true));
    }

    /**
     * Mean over the non-ignored rows of -log softmax(logits)[i, targets[i]]; 0 (with zero gradient)
     * when every row is ignored.
     */
    static Tensor crossEntropy(Tensor logits, int[] targets, int ignoreIndex) {
        if (logits.dim() != 2)
            throw new IllegalArgumentException("crossEntropy: logits must be (N, V), got " + Shapes.str(logits.shape()));
        int n = logits.size(0), v = logits.size(1);
        if (targets.length != n)
            throw new IllegalArgumentException("crossEntropy: " + targets.length + " targets for logits of shape "
                    + Shapes.str(logits.shape()) + " (expected " + n + ")");
        int count = 0;
        for (int i = 0; i < n; i++) {
            int t = targets[i];
            if (t == ignoreIndex) continue;
            if (t < 0 || t >= v)
                throw new IllegalArgumentException("crossEntropy: target " + t + " at row " + i + " out of range [0, " + v + ")");
            count++;
        }
        Tensor fused = fusedCrossEntropy(logits, targets, ignoreIndex, count);
        if (fused != null) return fused;
        Tensor onehot = Tensor.zeros(hostType(logits), n, v);
        CpuStorage s = (CpuStorage) onehot.storage();
        for (int i = 0; i < n; i++) if (targets[i] != ignoreIndex) s.set(i * v + targets[i], 1);
        // the one-hot rows are built on the CPU and copied once to the logits' device
        return logSoftmax(logits, 1).mul(onto(onehot, logits)).sum().mul(-1.0 / Math.max(1, count));
    }

    /** False with {@code -Dlongconv4j.crossEntropy=composed} (an A/B switch): always the composed path. */
    static final boolean FUSED_XENT = !"composed".equals(System.getProperty("longconv4j.crossEntropy"));

    /**
     * The device backend's fused cross-entropy (one kernel pass forward, one backward, no one-hot upload), or null
     * (CPU, no fused kernel): the composed path above is its slow twin.
     */
    private static Tensor fusedCrossEntropy(Tensor logits, int[] targets, int ignoreIndex, int count) {
        var be = Raw.backend("crossEntropy", logits);
        if (be == null || !FUSED_XENT || logits.numel() == 0) return null;
        int n = logits.size(0), v = logits.size(1);
        Tensor lc = Raw.contiguous(logits.detach());
        Tensor loss = Raw.output(logits.device(), logits.dtype(), new int[0]);
        Object h = be.crossEntropy(n, v, lc.storage(), lc.offset(), targets.clone(), ignoreIndex, count, loss.storage());
        if (h == null) return null;
        return Tensor.op("crossEntropy", loss, new Tensor[]{logits}, g -> {
            Tensor gc = Raw.contiguous(g);
            Tensor dx = Raw.output(logits.device(), logits.dtype(), new int[]{n, v});
            be.crossEntropyBackward(h, gc.storage(), gc.offset(), dx.storage());
            return new Tensor[]{dx};
        });
    }

    /**
     * Inverted dropout: keeps each element with probability 1 - p and scales it by 1 / (1 - p). CPU: the mask is
     * drawn from {@code rng} element by element. Device whose backend is a {@link DropoutMaskBackend}: the mask is
     * drawn on the device from one {@code rng.nextLong()} ({@link DropoutMasks}), so it differs from the CPU's mask
     * for the same generator but is reproducible per seed.
     */
    static Tensor dropout(Tensor x, double p, RandomGenerator rng, boolean training) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("dropout: p must be in [0, 1], got " + p);
        if (!training || p == 0) return x;
        double scale = p == 1 ? 0 : 1 / (1 - p);
        if (Raw.backend("dropout", x) instanceof DropoutMaskBackend dm) {
            // on a device with a mask kernel: one draw of the generator seeds a counter-based mask (DropoutMasks)
            Tensor mask = Raw.output(x.device(), x.dtype(), x.shape());
            dm.dropoutMask(mask.storage(), mask.numel(), DropoutMasks.seed(rng), p, scale);
            return x.mul(mask);
        }
        Tensor mask = Tensor.zeros(hostType(x), x.shape());
        CpuStorage s = (CpuStorage) mask.storage();
        for (int i = 0; i < s.length(); i++) s.set(i, rng.nextDouble() >= p ? scale : 0);
        // drawn on the CPU element by element (a device backend without a mask kernel gets this mask uploaded)
        return x.mul(onto(mask, x));
    }

    /** The CPU dtype to build a constant for x in: x's own, or F32 for the 16-bit device types. */
    private static DType hostType(Tensor x) { return x.dtype().cpuComputable() ? x.dtype() : DType.F32; }

    /** A CPU-built constant moved to x's device and dtype. */
    private static Tensor onto(Tensor host, Tensor x) {
        Tensor t = Raw.toDevice(host, x.device());
        return t.dtype() == x.dtype() ? t : Raw.convert(t, x.dtype());
    }

    static Tensor pad(Tensor x, int axis, int before, int after) {
        int a = Shapes.axis("pad", axis, x.dim());
        if (before < 0 || after < 0)
            throw new IllegalArgumentException("pad: before/after must be >= 0, got " + before + ", " + after);
        if (before == 0 && after == 0) return x;
        int[] sb = x.shape(), sa = x.shape();
        sb[a] = before;
        sa[a] = after;
        return Tensor.concat(a, Raw.empty(x.device(), x.dtype(), sb), x, Raw.empty(x.device(), x.dtype(), sa));
    }
}
