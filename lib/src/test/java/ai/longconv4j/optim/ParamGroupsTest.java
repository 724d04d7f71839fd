// Shapes: x (B, D) for the tiny model; B batch, D width.
package ai.longconv4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.nn.LayerNorm;
import ai.longconv4j.nn.Linear;
import ai.longconv4j.nn.Module;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class ParamGroupsTest {
    static final class Tiny extends Module {
        final Linear lin = register("lin", new Linear(3, 3, true, DType.F64, Rng.seeded(1)));
        final LayerNorm norm = register("norm", new LayerNorm(3, DType.F64));
        final Parameter k = param(new Parameter("k", Tensor.zeros(DType.F64, 3), Parameter.KERNEL_GROUP, true));

        @Override
        public Tensor forward(Tensor x) {
            return norm.forward(lin.forward(x)).mul(k.value());
        }
    }

    @Test
    void groupsFollowHintsAndOverrides() {
        var m = new Tiny();
        var groups = ParamGroups.of(m).lr(3e-4).weightDecay(0.1).betas(0.9, 0.95)
                .override(Parameter.KERNEL_GROUP, g -> g.withLr(1e-3).withWeightDecay(0)).build();
        assertEquals(List.of("kernel", "default", "default.noDecay"), groups.stream().map(ParamGroup::name).toList());
        ParamGroup kernel = groups.get(0);
        assertEquals(List.of("k"), List.copyOf(kernel.namedParameters().keySet()));
        assertEquals(1e-3, kernel.lr(), 0.0);
        assertEquals(0.0, kernel.weightDecay(), 0.0);
        ParamGroup decay = groups.get(1);
        assertEquals(List.of("lin.weight"), List.copyOf(decay.namedParameters().keySet()));
        assertEquals(0.1, decay.weightDecay(), 0.0);
        assertEquals(0.95, decay.beta2(), 0.0);
        ParamGroup noDecay = groups.get(2);
        assertEquals(List.of("lin.bias", "norm.weight", "norm.bias"), List.copyOf(noDecay.namedParameters().keySet()));
        assertEquals(0.0, noDecay.weightDecay(), 0.0);
        assertEquals(3e-4, noDecay.lr(), 0.0);
        assertEquals(m.numParameters(), groups.stream().mapToLong(ParamGroup::numel).sum());
        // the groups feed an optimizer whose state is keyed by module names
        var opt = new AdamW(groups);
        m.forward(Tensor.ones(DType.F64, 2, 3)).sum().backward();
        opt.step();
        assertTrue(opt.stateDict().containsKey("expAvg.lin.weight"), opt.stateDict().keySet().toString());
        assertTrue(opt.stateDict().containsKey("expAvgSq.k"));
    }

    @Test
    void unknownOverrideHintIsAnError() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> ParamGroups.of(new Tiny()).override("butterfly", g -> g).build());
        assertTrue(e.getMessage().contains("butterfly"), e.getMessage());
    }
}
