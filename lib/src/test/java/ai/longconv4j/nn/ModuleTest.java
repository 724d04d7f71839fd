// Shapes: x (B, D) in the small MLPs below; B batch, D width.
package ai.longconv4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModuleTest {
    /** A model with nesting, a buffer (batch norm) and a custom-group parameter. */
    static final class Net extends Module {
        final Linear in;
        final Sequential blocks;
        final Parameter kernel;

        Net(long seed) {
            var rng = Rng.seeded(seed);
            in = register("in", new Linear(3, 4, true, DType.F64, rng));
            blocks = register("blocks", Sequential.of(
                    Residual.preNorm(new LayerNorm(4, DType.F64), new Linear(4, 4, true, DType.F64, rng)),
                    new Dropout(0.5, seed)));
            kernel = param(new Parameter("kernel", Tensor.randn(rng, DType.F64, 4), Parameter.KERNEL_GROUP, false));
        }

        @Override
        public Tensor forward(Tensor x) {
            return blocks.forward(in.forward(x)).mul(kernel.value());
        }
    }

    @Test
    void namedParametersAreDottedAndInRegistrationOrder() {
        var net = new Net(1);
        assertEquals(List.of("kernel", "in.weight", "in.bias", "blocks.0.norm.weight", "blocks.0.norm.bias",
                "blocks.0.body.weight", "blocks.0.body.bias"), List.copyOf(net.namedParameters().keySet()));
        assertSame(net.in.weight(), net.namedParameters().get("in.weight"));
        assertEquals(List.copyOf(net.namedParameters().values()), net.parameters());
        assertEquals(4 + (12 + 4) + (4 + 4) + (16 + 4), net.numParameters());
        assertEquals(Parameter.KERNEL_GROUP, net.namedParameters().get("kernel").group());
        assertFalse(net.namedParameters().get("in.bias").decays());
        assertTrue(net.namedParameters().get("in.weight").decays());
        assertFalse(net.namedParameters().get("blocks.0.norm.weight").decays());
    }

    @Test
    void registrationRejectsDuplicatesAndDots() {
        var m = new Sequential();
        m.add(new GELU());
        assertThrows(IllegalArgumentException.class, () -> Parameter.of("a.b", Tensor.zeros(DType.F64, 1)));
        assertThrows(IllegalArgumentException.class, () -> Parameter.of("", Tensor.zeros(DType.F64, 1)));
        var dup = new Module() {
            {
                param("w", Tensor.zeros(DType.F64, 2));
            }

            void again() {
                register("w", new GELU());
            }

            @Override
            public Tensor forward(Tensor x) {
                return x;
            }
        };
        var e = assertThrows(IllegalArgumentException.class, dup::again);
        assertTrue(e.getMessage().contains("'w'"), e.getMessage());
    }

    @Test
    void trainAndEvalPropagateToChildren() {
        var net = new Net(2);
        assertTrue(net.isTraining());
        net.eval();
        assertFalse(net.isTraining());
        assertFalse(net.blocks.get(1).isTraining());
        assertFalse(((Residual) net.blocks.get(0)).body().isTraining());
        net.train();
        assertTrue(((Residual) net.blocks.get(0)).norm().isTraining());
        assertTrue(net.blocks.get(1).isTraining());
    }

    @Test
    void zeroGradClearsEveryGradient() {
        var net = new Net(3);
        net.forward(Tensor.randn(Rng.seeded(9), DType.F64, 2, 3)).sum().backward();
        assertNotNull(net.in.weight().grad());
        assertNotNull(net.kernel.grad());
        net.zeroGrad();
        for (Parameter p : net.parameters()) {
            Tensor g = p.grad();
            assertTrue(g == null || g.abs().sum().item() == 0, p.name());
        }
    }

    @Test
    void stateDictRoundTripReproducesOutputs() {
        var a = new Net(4);
        var b = new Net(5);
        a.eval();
        b.eval();
        Tensor x = Tensor.randn(Rng.seeded(10), DType.F64, 5, 3);
        double[] ya = a.forward(x).toDoubleArray();
        assertFalse(java.util.Arrays.equals(ya, b.forward(x).toDoubleArray()), "different seeds must differ");
        Map<String, Tensor> sd = a.stateDict();
        assertEquals(a.namedParameters().keySet(), sd.keySet());
        b.loadStateDict(sd);
        assertArrayEquals(ya, b.forward(x).toDoubleArray(), 0.0);
        // the snapshot does not follow later changes of the source
        double before = sd.get("in.weight").sum().item();
        a.in.weight().assign(a.in.weight().value().add(1.0));
        assertEquals(before, sd.get("in.weight").sum().item(), 0.0);
    }

    @Test
    void stateDictIncludesBuffersAndConvertsDtype() {
        var bn = new BatchNorm1d(3, DType.F64);
        bn.forward(Tensor.randn(Rng.seeded(11), DType.F64, 4, 3, 5));
        var sd = bn.stateDict();
        assertEquals(List.of("weight", "bias", "runningMean", "runningVar"), List.copyOf(sd.keySet()));
        var f32 = new HashMap<String, Tensor>();
        sd.forEach((k, v) -> f32.put(k, v.to(DType.F32)));
        var other = new BatchNorm1d(3, DType.F64);
        other.loadStateDict(f32);
        assertEquals(DType.F64, other.runningMean().dtype());
        assertArrayEquals(bn.runningMean().toDoubleArray(), other.runningMean().toDoubleArray(), 1e-6);
        assertArrayEquals(bn.runningVar().toDoubleArray(), other.runningVar().toDoubleArray(), 1e-6);
    }

    @Test
    void loadStateDictReportsMissingUnexpectedAndShapeMismatches() {
        var net = new Net(6);
        double[] w = net.in.weight().value().toDoubleArray();
        var sd = new HashMap<>(new Net(7).stateDict());
        sd.remove("in.bias");
        sd.put("extra.weight", Tensor.zeros(DType.F64, 1));
        sd.put("kernel", Tensor.zeros(DType.F64, 5));
        var e = assertThrows(IllegalArgumentException.class, () -> net.loadStateDict(sd));
        String msg = e.getMessage();
        assertTrue(msg.contains("missing keys [in.bias]"), msg);
        assertTrue(msg.contains("unexpected keys [extra.weight]"), msg);
        assertTrue(msg.contains("kernel: expected [4], got [5]"), msg);
        assertArrayEquals(w, net.in.weight().value().toDoubleArray(), 0.0, "a failed load must change nothing");
    }

    @Test
    void toStringShowsALayerTableWithCounts() {
        var net = new Net(8);
        String s = net.toString();
        assertTrue(s.startsWith("Net (48 parameters, train)"), s);
        assertTrue(s.contains("Linear(3 -> 4)"), s);
        assertTrue(s.contains("blocks.0.norm"), s);
        assertTrue(s.contains("LayerNorm(4, eps=1.0E-5)"), s);
        assertTrue(s.lines().anyMatch(l -> l.contains("blocks ") && l.trim().endsWith("28")), s);
        assertEquals("GELU (0 parameters, eval)", new GELU().eval().toString());
    }

    @Test
    void parameterAssignChecksShapeAndDoesNotAlias() {
        var p = Parameter.of("w", Tensor.zeros(DType.F64, 2, 2));
        assertTrue(p.value().requiresGrad());
        var e = assertThrows(IllegalArgumentException.class, () -> p.assign(Tensor.zeros(DType.F64, 4)));
        assertTrue(e.getMessage().contains("[2, 2]") && e.getMessage().contains("[4]"), e.getMessage());
        Tensor src = Tensor.ones(DType.F32, 2, 2);
        p.assign(src);
        assertEquals(DType.F64, p.value().dtype());
        assertFalse(src.requiresGrad(), "assign must not flip the caller's tensor");
        assertNull(p.grad());
    }
}
