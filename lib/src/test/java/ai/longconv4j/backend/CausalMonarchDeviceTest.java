// Shape legend: B batch, C kernel channels, H features, L length (13: padded to 4 x 4 = 16), Lk kernel taps.
package ai.longconv4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.CausalMonarch;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.models.Mixer;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.optim.AdamW;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/**
 * The causal learned-Monarch convolution on {@link SimulatedDeviceBackend}'s "cuda:7": it is composed of tensor ops
 * around the device convolution, so forward and every gradient (u, k, D, the four blocks) must equal the CPU's
 * (F64 on both sides: 1e-12 relative, see {@link DeviceDispatchTest}), and a learned-butterfly LM must train on the
 * device like on the CPU.
 */
class CausalMonarchDeviceTest {
    @Test
    void learnedCausalConvOnTheDeviceMatchesTheCpu() {
        var f = CausalMonarch.factor(13);
        assertEquals(16, f.padded());
        List<Tensor> in = new java.util.ArrayList<>(List.of(DeviceDispatchTest.randn(1, 2, 3, 13), DeviceDispatchTest.randn(2, 2, 3, 13),
                DeviceDispatchTest.randn(3, 2, 3)));
        for (int i = 0; i < 4; i++) {
            int n = i % 2 == 0 ? f.l1() : f.l2();
            in.add(CausalMonarch.identity(n, DType.F64).add(DeviceDispatchTest.randn(10 + i, n, n).mul(0.3)));
        }
        DeviceDispatchTest.compare("learnedCausalConv", in, t -> ConvOps.learnedCausalConv(t.get(0), t.get(1), t.get(2), ConvMode.CAUSAL,
                new Tensor[] {t.get(3), t.get(4), t.get(5), t.get(6)}));
    }

    @Test
    void learnedButterflyLmTrainsOnTheDeviceLikeOnTheCpu() {
        for (Mixer mixer : Mixer.values()) {
            // kernel dropout 0: a device draws its masks from a counter-based hash (DropoutMasks), not the CPU's stream
            var cpu = LongConvLM.learnedButterfly().vocab(7).width(8).layers(2).length(16).mixer(mixer).dtype(DType.F64)
                    .kernelDropout(0).seed(3).build();
            var dev = LongConvLM.learnedButterfly().vocab(7).width(8).layers(2).length(16).mixer(mixer).dtype(DType.F64)
                    .kernelDropout(0).seed(3).build();
            dev.to(DeviceDispatchTest.DEV);
            for (var p : dev.parameters()) assertEquals(DeviceDispatchTest.DEV, p.value().device(), p.name());
            var oc = new AdamW(cpu.paramGroups(1e-2, 0.1));
            var od = new AdamW(dev.paramGroups(1e-2, 0.1));
            RandomGenerator r = Rng.seeded(4);
            for (int step = 0; step < 3; step++) {
                int[] ids = new int[26], tg = new int[26];
                for (int i = 0; i < 26; i++) { ids[i] = r.nextInt(7); tg[i] = (ids[i] + 1) % 7; }
                oc.zeroGrad();
                od.zeroGrad();
                Tensor lc = cpu.loss(ids, tg, 2, 13, -1), ld = dev.loss(ids, tg, 2, 13, -1);   // L = 13 < 16: padded, cropped
                assertEquals(DeviceDispatchTest.DEV, ld.device());
                lc.backward();
                ld.backward();
                oc.step();
                od.step();
                assertEquals(lc.item(), ld.item(), 1e-10 * Math.abs(lc.item()), mixer + " step " + step);
            }
            var pc = cpu.namedParameters();
            var pd = dev.namedParameters();
            int blocks = 0;
            for (var e : pc.entrySet()) {
                Parameter q = pd.get(e.getKey());
                assertTrue(DeviceDispatchTest.relErr(q.value(), e.getValue().value()) < 1e-9, mixer + " " + e.getKey());
                if (e.getValue().group().equals(Parameter.BUTTERFLY_GROUP)) blocks++;
            }
            assertEquals(mixer == Mixer.H3 ? 16 : 8, blocks, mixer + " butterfly blocks");
        }
    }

    /** The causality probe of a model on a device runs there (its random output weights included) and agrees with the CPU. */
    @Test
    void causalityProbeRunsOnTheModelsDevice() {
        var cpu = LongConvLM.learnedButterfly().vocab(7).width(8).layers(2).length(16).dtype(DType.F64).kernelDropout(0).seed(5).build();
        var dev = LongConvLM.learnedButterfly().vocab(7).width(8).layers(2).length(16).dtype(DType.F64).kernelDropout(0).seed(5).build();
        dev.to(DeviceDispatchTest.DEV);
        var rc = ai.longconv4j.models.Causality.probe(cpu, 8, DType.F64, 16);
        var rd = ai.longconv4j.models.Causality.probe(dev, 8, DType.F64, 16);
        assertTrue(rd.causal(), "device probe: " + rd);
        // both are FFT round-off (~1e-16 relative); the same model and probe inputs on both sides
        assertEquals(rc.worstRatio(), rd.worstRatio(), 1e-12);
    }
}
