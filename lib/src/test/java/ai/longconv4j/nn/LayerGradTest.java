// Shapes: x (B, H, L) or (B, L, D); B batch, H channels, L length, D width. Odd sizes on purpose.
package ai.longconv4j.nn;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import ai.longconv4j.testing.GradCheck;
import ai.longconv4j.testing.ModuleGradCheck;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Central-difference gradient checks in F64: the functional forms with the shared {@link GradCheck}
 * (its tolerances: atol 1e-6, rtol 1e-5), the modules' own paths with {@link ModuleGradCheck}.
 */
class LayerGradTest {
    private static Tensor randn(long seed, int... shape) {
        return Tensor.randn(Rng.seeded(seed), DType.F64, shape);
    }

    private static Parameter input(long seed, int... shape) {
        return Parameter.of("x", randn(seed, shape));
    }

    private static List<Parameter> with(Parameter x, Module m) {
        var out = new ArrayList<Parameter>();
        out.add(x);
        out.addAll(m.parameters());
        return out;
    }

    /** Moves every parameter away from its init (LayerNorm/BatchNorm start at 1 and 0). */
    private static void jitter(Module m, long seed) {
        var rng = Rng.seeded(seed);
        for (Parameter p : m.parameters()) {
            p.assign(p.value().add(Tensor.randn(rng, DType.F64, p.shape()).mul(0.5)));
        }
    }

    @Test
    void linear() {
        GradCheck.assertGradients("Linear.linear", a -> Linear.linear(a[0], a[1], a[2]),
                randn(1, 2, 4, 5), randn(2, 3, 5), randn(3, 3));
        GradCheck.assertGradients("Linear.linear(no bias)", a -> Linear.linear(a[0], a[1], null),
                randn(1, 7, 5), randn(2, 3, 5));
        var lin = new Linear(5, 3, true, DType.F64, Rng.seeded(1));
        var x = input(2, 2, 4, 5);
        ModuleGradCheck.assertGradients("Linear", with(x, lin), () -> lin.forward(x.value()));
    }

    @Test
    void layerNorm() {
        GradCheck.assertGradients("LayerNorm.layerNorm", a -> LayerNorm.layerNorm(a[0], a[1], a[2], 1e-5),
                randn(4, 3, 2, 7), randn(5, 7), randn(6, 7));
        var ln = new LayerNorm(7, DType.F64);
        jitter(ln, 4);
        var x = input(5, 3, 7);
        ModuleGradCheck.assertGradients("LayerNorm", with(x, ln), () -> ln.forward(x.value()));
    }

    @Test
    void batchNormTrainMode() {
        GradCheck.assertGradients("BatchNorm1d.batchNormTrain", a -> BatchNorm1d.batchNormTrain(a[0], a[1], a[2], 1e-5),
                randn(7, 2, 3, 5), randn(8, 3), randn(9, 3));
        var bn = new BatchNorm1d(3, DType.F64);
        jitter(bn, 6);
        var x = input(7, 3, 3, 1);
        ModuleGradCheck.assertGradients("BatchNorm1d(train)", with(x, bn), () -> bn.forward(x.value()));
    }

    @Test
    void batchNormEvalMode() {
        var bn = new BatchNorm1d(3, DType.F64);
        bn.forward(randn(8, 4, 3, 2).mul(3).add(1));
        bn.eval();
        jitter(bn, 9);
        var x = input(10, 2, 3, 5);
        ModuleGradCheck.assertGradients("BatchNorm1d(eval)", with(x, bn), () -> bn.forward(x.value()));
    }

    @Test
    void glu() {
        GradCheck.assertGradients("GLU.glu(last)", a -> GLU.glu(a[0], -1), randn(11, 3, 5, 4));
        GradCheck.assertGradients("GLU.glu(axis 1)", a -> GLU.glu(a[0], 1), randn(12, 3, 6, 5));
        var x = input(13, 2, 6, 3);
        ModuleGradCheck.assertGradients("GLU", List.of(x), () -> new GLU(1).forward(x.value()));
    }

    @Test
    void embeddingWithRepeatedIds() {
        int[] ids = {0, 3, 3, 4, 0, 3};
        GradCheck.assertGradients("Tensor.embedding", a -> Tensor.embedding(a[0], ids, 2, 3), randn(12, 5, 3));
        var emb = new Embedding(5, 3, DType.F64, Rng.seeded(12));
        ModuleGradCheck.assertGradients("Embedding", emb.parameters(), () -> emb.forward(ids, 2, 3));
    }

    @Test
    void preNormResidualWithGelu() {
        var block = Residual.preNorm(new LayerNorm(4, DType.F64),
                Sequential.of(new Linear(4, 8, true, DType.F64, Rng.seeded(13)), new GLU(), new GELU(),
                        new GELU(GELU.Approximation.TANH)));
        var x = input(14, 2, 3, 4);
        ModuleGradCheck.assertGradients("Residual(pre-norm)", with(x, block), () -> block.forward(x.value()));
    }

    /** Negative controls: a deliberately wrong backward (10% too large) must fail both checkers. */
    @Test
    void checkersCatchAWrongGradient() {
        java.util.function.Function<Tensor, Tensor> wrongSquare = in -> Tensor.op("wrongSquare",
                in.detach().mul(in.detach()), new Tensor[] {in}, g -> new Tensor[] {g.mul(in.detach()).mul(2.2)});
        var x = input(15, 4, 3);
        var res = ModuleGradCheck.compare(List.of(x), () -> wrongSquare.apply(x.value()), 1234);
        assertTrue(res.maxError() > 100 * ModuleGradCheck.TOL, "module checker missed a wrong gradient: " + res);
        assertThrows(AssertionError.class,
                () -> ModuleGradCheck.assertGradients("wrong", List.of(x), () -> wrongSquare.apply(x.value())));
        var shared = GradCheck.check(a -> wrongSquare.apply(a[0]), GradCheck.EPS, GradCheck.ATOL, GradCheck.RTOL,
                randn(16, 4, 3));
        assertFalse(shared.passed(), "shared checker missed a wrong gradient: " + shared);
    }
}
