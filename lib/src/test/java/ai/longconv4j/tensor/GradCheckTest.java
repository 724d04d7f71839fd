// Shape legend: small shapes (2..5 per dim) so central differences stay cheap; (B, M, K) x (B, K, N)
// for matmul; logits (N, V) for cross-entropy; weight (V, D) for embedding.
package ai.longconv4j.tensor;

import ai.longconv4j.testing.GradCheck;
import org.junit.jupiter.api.Test;

import java.util.function.Function;

import static ai.longconv4j.testing.GradCheck.assertGradients;

/** A central-difference gradient check (F64, see {@link GradCheck} for tolerances) for every primitive op. */
class GradCheckTest {

    private static Tensor randn(long seed, int... shape) { return Tensor.randn(Rng.seeded(seed), DType.F64, shape); }

    /** Values in [lo, lo + 1 + ...) away from kinks and poles. */
    private static Tensor positive(long seed, int... shape) { return Tensor.rand(Rng.seeded(seed), DType.F64, shape).add(0.5); }

    private static void unary(String name, Function<Tensor, Tensor> f, Tensor x) {
        assertGradients(name, in -> f.apply(in[0]), x);
    }

    @Test
    void arithmeticSameShape() {
        Tensor a = randn(1, 3, 4), b = randn(2, 3, 4), p = positive(3, 3, 4);
        assertGradients("add", in -> in[0].add(in[1]), a, b);
        assertGradients("sub", in -> in[0].sub(in[1]), a, b);
        assertGradients("mul", in -> in[0].mul(in[1]), a, b);
        assertGradients("div", in -> in[0].div(in[1]), a, p);
    }

    @Test
    void arithmeticBroadcasting() {
        Tensor a = randn(4, 2, 3, 4), row = randn(5, 4), col = randn(6, 3, 1), lead = randn(7, 2, 1, 1);
        Tensor prow = positive(8, 4), pcol = positive(9, 3, 1);
        assertGradients("add row", in -> in[0].add(in[1]), a, row);
        assertGradients("add col", in -> in[0].add(in[1]), a, col);
        assertGradients("sub lead", in -> in[0].sub(in[1]), a, lead);
        assertGradients("sub reversed", in -> in[1].sub(in[0]), a, col);
        assertGradients("mul col x row", in -> in[0].mul(in[1]), col, row);
        assertGradients("mul lead", in -> in[0].mul(in[1]), lead, a);
        assertGradients("div row", in -> in[0].div(in[1]), a, prow);
        assertGradients("div col by row", in -> in[0].div(in[1]), pcol, prow);
        assertGradients("add scalar tensor", in -> in[0].add(in[1]), a, randn(10));
    }

    @Test
    void scalarOps() {
        Tensor x = randn(11, 2, 3);
        unary("add(c)", t -> t.add(1.5), x);
        unary("sub(c)", t -> t.sub(0.5), x);
        unary("mul(c)", t -> t.mul(-2.5), x);
        unary("div(c)", t -> t.div(3), x);
        unary("neg", Tensor::neg, x);
    }

    @Test
    void unaryFunctions() {
        Tensor x = randn(12, 3, 4), p = positive(13, 3, 4);
        unary("exp", Tensor::exp, x);
        unary("log", Tensor::log, p);
        unary("tanh", Tensor::tanh, x);
        unary("sigmoid", Tensor::sigmoid, x.mul(3));
        unary("relu", Tensor::relu, x);
        unary("gelu", Tensor::gelu, x.mul(2));
        unary("geluTanh", Tensor::geluTanh, x.mul(2));
        unary("sqrt", Tensor::sqrt, p);
        unary("pow 3", t -> t.pow(3), x);
        unary("pow -1.5", t -> t.pow(-1.5), p);
        unary("pow 0", t -> t.pow(0), x);
        unary("abs", Tensor::abs, x);
        unary("sign (zero gradient)", Tensor::sign, x);
        unary("maximum", t -> t.maximum(0.2), x);
    }

    @Test
    void geluTailsAndErfRegions() {
        // exercises the erf series (|x/sqrt2| < 3) and the erfc continued fraction (>= 3) in both tails
        Tensor x = Tensor.of(new double[]{-6, -4.5, -4.2, -1, 0.3, 4.2, 4.5, 6}, 8);
        unary("gelu tails", Tensor::gelu, x);
        unary("geluTanh tails", Tensor::geluTanh, x);
    }

    @Test
    void whereAndConversion() {
        Tensor mask = Tensor.of(new double[]{1, 0, 0, 1, 1, 0}, 2, 3);
        Tensor a = randn(14, 2, 3), b = randn(15, 3);
        assertGradients("where", in -> Tensor.where(mask, in[0], in[1]), a, b);
        assertGradients("where broadcast mask", in -> Tensor.where(Tensor.of(new double[]{0, 1, 1}, 3), in[0], in[1]), a, b);
        // F32 rounding (~6e-8 relative) would swamp eps = 1e-6; the op is linear, so a large eps = 1e-2 is exact
        // up to rounding: error <= 2 * 6e-8 * |x| / 1e-2 ~ 1e-5 for |x| ~ 1, hence atol 1e-4
        var r = ai.longconv4j.testing.GradCheck.check(in -> in[0].to(DType.F32).to(DType.F64), 1e-2, 1e-4, 0, a);
        org.junit.jupiter.api.Assertions.assertTrue(r.passed(), r.toString());
    }

    @Test
    void reductions() {
        Tensor x = randn(16, 2, 3, 4);
        unary("sum", Tensor::sum, x);
        unary("sum axis 0", t -> t.sum(0, false), x);
        unary("sum axis 1 keep", t -> t.sum(1, true), x);
        unary("sum axis -1", t -> t.sum(-1, false), x);
        unary("mean", Tensor::mean, x);
        unary("mean axis 1", t -> t.mean(1, false), x);
        unary("max axis 0", t -> t.max(0, false), x);
        unary("max axis 2 keep", t -> t.max(2, true), x);
    }

    @Test
    void matmul() {
        assertGradients("matmul 2d", in -> in[0].matmul(in[1]), randn(17, 3, 4), randn(18, 4, 5));
        assertGradients("matmul batched", in -> in[0].matmul(in[1]), randn(19, 2, 3, 4), randn(20, 2, 4, 2));
        assertGradients("matmul broadcast batch", in -> in[0].matmul(in[1]), randn(21, 2, 3, 4), randn(22, 4, 2));
        assertGradients("matmul broadcast both", in -> in[0].matmul(in[1]), randn(23, 2, 1, 3, 4), randn(24, 3, 4, 2));
        assertGradients("matmul transposed views", in -> in[0].transpose(0, 1).matmul(in[1].transpose(0, 1)),
                randn(25, 4, 3), randn(26, 2, 4));
        assertGradients("matmul vector x matrix", in -> in[0].matmul(in[1]), randn(33, 4), randn(34, 2, 4, 3));
        assertGradients("matmul matrix x vector", in -> in[0].matmul(in[1]), randn(35, 2, 3, 4), randn(36, 4));
    }

    @Test
    void shapeOps() {
        Tensor x = randn(27, 2, 3, 4);
        unary("reshape", t -> t.reshape(4, -1), x);
        unary("reshape of transpose", t -> t.transpose(0, 2).reshape(-1), x);
        unary("permute", t -> t.permute(2, 0, 1), x);
        unary("transpose", t -> t.transpose(-1, -2), x);
        unary("slice", t -> t.slice(1, 1, 3), x);
        unary("slice of transpose", t -> t.transpose(0, 2).slice(0, 1, 3), x);
        unary("expand", t -> t.slice(1, 0, 1).expand(2, 5, 4), x);
        unary("pad", t -> t.pad(2, 1, 2), x);
        unary("flip", t -> t.flip(1), x);
        unary("contiguous", t -> t.transpose(0, 1).contiguous(), x);
        unary("unsqueeze/squeeze", t -> t.unsqueeze(1).mul(2).squeeze(1), x);
        assertGradients("concat", in -> Tensor.concat(1, in[0], in[1], in[0]), x, randn(28, 2, 2, 4));
    }

    @Test
    void nnOps() {
        Tensor logits = randn(29, 4, 5).mul(2);
        unary("softmax", t -> t.softmax(1), logits);
        unary("softmax axis 0", t -> t.softmax(0), logits);
        unary("logSoftmax", t -> t.logSoftmax(-1), logits);
        unary("crossEntropy", t -> t.crossEntropy(new int[]{1, 0, 4, 2}, -100), logits);
        unary("crossEntropy ignore", t -> t.crossEntropy(new int[]{1, -100, 4, -100}, -100), logits);
        int[] ids = {2, 0, 2, 3, 1, 2};
        assertGradients("embedding (repeated ids)", in -> Tensor.embedding(in[0], ids, 2, 3), randn(30, 4, 3));
        // the generator is re-created inside f so every evaluation draws the same mask
        unary("dropout", t -> t.dropout(0.4, Rng.seeded(5), true), randn(31, 6, 5));
        unary("dropout eval", t -> t.dropout(0.4, Rng.seeded(5), false), randn(31, 6, 5));
    }

    @Test
    void customOp() {
        // y = x^2 computed outside autograd, with its hand-written rule dy/dx = 2x
        assertGradients("op square", in -> {
            Tensor x = in[0];
            return Tensor.op("square", x.detach().mul(x.detach()), new Tensor[]{x}, g -> new Tensor[]{g.mul(x.detach()).mul(2)});
        }, randn(32, 3, 2));
    }
}
