// Shape legend: B batch, L length, D width, V vocabulary; all tiny (F64) so central differences are cheap.
package ai.longconv4j.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import ai.longconv4j.testing.ModuleGradCheck;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Gradient checks (F64, central differences, {@link ModuleGradCheck#TOL}) of the models' whole forward
 * paths, parameters and inputs. Squash is set to λ = 0 (its kink then sits at K = 0, which random
 * parameters never hit) and kernel dropout to 0 so the function is smooth and deterministic.
 */
class ModelGradTest {
    private static final ConvSettings SMOOTH = ConvSettings.defaults().withLambda(0).withKernelDropout(0);

    private static List<Parameter> withInput(List<Parameter> ps, Parameter x) {
        var all = new ArrayList<>(ps);
        all.add(x);
        return all;
    }

    @Test
    void h3ConvGradients() {
        var h3 = H3Conv.builder().width(3).length(5).conv(SMOOTH).dtype(DType.F64).seed(3).build();
        var x = Parameter.of("x", Tensor.randn(Rng.seeded(4), DType.F64, 2, 5, 3));
        ModuleGradCheck.assertGradients("H3Conv", withInput(h3.parameters(), x), () -> h3.forward(x.value()));
    }

    @Test
    void h3ConvShorterInputCropsKernel() {
        var h3 = H3Conv.builder().width(2).length(7).conv(SMOOTH).dtype(DType.F64).seed(5).build();
        var x = Parameter.of("x", Tensor.randn(Rng.seeded(6), DType.F64, 1, 4, 2));
        ModuleGradCheck.assertGradients("H3Conv L<Lk", withInput(h3.parameters(), x), () -> h3.forward(x.value()));
    }

    @Test
    void lmWithBothMixersGradients() {
        for (Mixer m : Mixer.values()) {
            var lm = LongConvLM.builder().vocab(5).width(4).layers(1).length(6).mixer(m).conv(SMOOTH).channels(2)
                    .dtype(DType.F64).seed(7).build();
            var x = Parameter.of("x", Tensor.randn(Rng.seeded(8), DType.F64, 2, 6, 4));
            ModuleGradCheck.assertGradients("LongConvLM " + m, withInput(lm.parameters(), x), () -> lm.forward(x.value()));
        }
    }

    @Test
    void learnedButterflyLmGradients() {
        var lm = LongConvLM.learnedButterfly().vocab(4).width(2).layers(1).length(8).conv(SMOOTH.withEngine(ConvEngine.LEARNED_CAUSAL))
                .dtype(DType.F64).seed(9).build();
        assertTrue(lm.parameters().stream().anyMatch(p -> p.group().equals(Parameter.BUTTERFLY_GROUP)));
        int[] ids = {0, 1, 2, 3, 3, 2, 1, 0};
        ModuleGradCheck.assertGradients("learned-butterfly LM", lm.parameters(), () -> lm.logits(ids, 1, 8));
    }

    @Test
    void classifierGradients() {
        for (var norm : LongConvClassifier.Norm.values()) {
            for (boolean pre : new boolean[] {true, false}) {
                var clf = LongConvClassifier.builder().inputFeatures(3).classes(3).width(4).layers(1).length(5).norm(norm)
                        .preNorm(pre).pool(pre ? LongConvClassifier.Pool.MEAN : LongConvClassifier.Pool.LAST)
                        .conv(SMOOTH.withMode(ConvMode.BIDIRECTIONAL)).dtype(DType.F64).seed(11).build();
                var x = Parameter.of("x", Tensor.randn(Rng.seeded(12), DType.F64, 3, 5, 3));
                ModuleGradCheck.assertGradients("classifier " + norm + (pre ? " pre" : " post"),
                        withInput(clf.parameters(), x), () -> clf.forward(x.value()));
            }
        }
    }

    /** Negative control: the same check on an F32 model must fail (1e-6 steps drown in float round-off). */
    @Test
    void float32CheckFails() {
        var h3 = H3Conv.builder().width(3).length(5).conv(SMOOTH).dtype(DType.F32).seed(3).build();
        var x = Parameter.of("x", Tensor.randn(Rng.seeded(4), DType.F32, 2, 5, 3));
        var r = ModuleGradCheck.compare(withInput(h3.parameters(), x), () -> h3.forward(x.value()).to(DType.F64), 1234);
        assertTrue(r.maxError() > 100 * ModuleGradCheck.TOL, "F32 gradient check unexpectedly passed: " + r);
    }
}
