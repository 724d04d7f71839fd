// Shapes: small awkward ones (H = 11, L = 13) and a 2-layer LongConvLM (V = 7, width 8, L = 16, B = 2).
package ai.longconv4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.optim.AdamW;
import ai.longconv4j.optim.ParamGroups;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.List;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/**
 * The backend SPI without a GPU: every op and a whole training run on {@link SimulatedDeviceBackend}'s "cuda:7"
 * against the CPU path (F64; the simulated kernels compute in double like the CPU, so 1e-12 relative covers the
 * summation-order and erf-series differences), plus the error messages for mixed devices and missing devices.
 */
class DeviceDispatchTest {
    static final Device DEV = SimulatedDeviceBackend.DEVICE;

    static Tensor randn(long seed, int... shape) { return Tensor.randn(Rng.seeded(seed), DType.F64, shape); }

    static double relErr(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double num = 0, den = 0;
        for (int i = 0; i < x.length; i++) {
            num += (x[i] - y[i]) * (x[i] - y[i]);
            den += y[i] * y[i];
        }
        return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
    }

    static void compare(String what, List<Tensor> inputs, Function<List<Tensor>, Tensor> f) {
        var cpu = inputs.stream().map(x -> x.detach().requiresGrad(true)).toList();
        var dev = inputs.stream().map(x -> x.detach().to(DEV).requiresGrad(true)).toList();
        Tensor yc = f.apply(cpu), yd = f.apply(dev);
        assertEquals(DEV, yd.device(), what + ": result device");
        assertArrayEquals(yc.shape(), yd.shape(), what);
        assertTrue(relErr(yd, yc) < 1e-12, what + " forward: " + relErr(yd, yc));
        Tensor w = randn(99, yc.shape());
        yc.mul(w).sum().backward();
        yd.mul(w.to(DEV)).sum().backward();
        for (int i = 0; i < inputs.size(); i++) {
            if (cpu.get(i).grad() == null) continue;
            assertEquals(Device.CPU, cpu.get(i).grad().device());
            assertEquals(DEV, dev.get(i).grad().device(), what + " grad " + i + " device");
            assertTrue(relErr(dev.get(i).grad(), cpu.get(i).grad()) < 1e-12, what + " grad " + i);
        }
    }

    @Test
    void everyPrimitiveDispatchesToTheDeviceAndMatchesTheCpu() {
        Tensor x = randn(1, 3, 11, 13), b = randn(2, 1, 11, 1), pos = Tensor.rand(Rng.seeded(3), DType.F64, 3, 11, 13).add(0.1);
        List<Function<Tensor, Tensor>> unary = List.of(Tensor::neg, Tensor::exp, Tensor::tanh, Tensor::sigmoid, Tensor::relu,
                Tensor::gelu, Tensor::geluTanh, Tensor::abs, Tensor::sign, t -> t.pow(3), t -> t.maximum(0.2), t -> t.add(2),
                t -> t.mul(-3), t -> t.transpose(0, 2).tanh());
        for (int i = 0; i < unary.size(); i++) {
            var fn = unary.get(i);
            compare("unary " + i, List.of(x), in -> fn.apply(in.get(0)));
        }
        compare("log/sqrt", List.of(pos), in -> in.get(0).log().add(in.get(0).sqrt()));
        compare("arith", List.of(x, b), in -> in.get(0).add(in.get(1)).mul(in.get(0)).sub(in.get(1)).div(in.get(1).abs().add(1)));
        compare("where", List.of(x, b), in -> Tensor.where(x.sign().relu().to(in.get(0).device()), in.get(0), in.get(1)));
        compare("reductions", List.of(x), in -> in.get(0).sum(1, true).add(in.get(0).max(2, true).sum(0, false)).add(in.get(0).mean()));
        compare("softmax+xent", List.of(randn(4, 6, 11)), in -> in.get(0).softmax(1).add(in.get(0).crossEntropy(new int[] {1, 2, -1, 10, 0, 3}, -1)));
        compare("matmul", List.of(randn(5, 2, 1, 4, 6), randn(6, 3, 6, 5)), in -> in.get(0).matmul(in.get(1)));
        compare("matmul T", List.of(randn(7, 6, 4), randn(8, 5, 6)), in -> in.get(0).transpose(0, 1).matmul(in.get(1).transpose(0, 1)));
        compare("shapes", List.of(x), in -> Tensor.concat(1, in.get(0).flip(2), in.get(0).pad(1, 1, 2).slice(1, 0, 3)));
        compare("embedding", List.of(randn(9, 11, 5)), in -> Tensor.embedding(in.get(0), new int[] {3, 3, 0, 10}, 2, 2));
        // the device draws its mask from one nextLong() of the generator (DropoutMasks); the CPU side applies that mask
        Tensor twin = Tensor.fromStorage(DropoutMasks.mask(DType.F64, 3 * 11 * 13, Rng.seeded(7).nextLong(), 0.4, 1 / 0.6), 3, 11, 13);
        compare("dropout", List.of(x), in -> in.get(0).device().isCpu() ? in.get(0).mul(twin) : in.get(0).dropout(0.4, Rng.seeded(7), true));
        compare("to F32 and back", List.of(x), in -> in.get(0).to(DType.F32).to(DType.F64));
        Tensor y = x.to(DEV);
        assertEquals(x.get(2, 10, 12), y.get(2, 10, 12), 0);
        assertEquals(x.transpose(0, 2).toString().replace("cpu", "cuda:7"), y.transpose(0, 2).toString());
        assertArrayEquals(x.argmax(1, false).toDoubleArray(), y.argmax(1, false).toDoubleArray());
    }

    @Test
    void convolutionInEveryModeGoesThroughTheSpectralCapability() {
        for (ConvMode mode : ConvMode.values()) {
            int[] ks = mode.sides() == 2 ? new int[] {2, 3, 2, 9} : new int[] {2, 3, 9};
            compare("conv " + mode, List.of(randn(10, 2, 3, 13), randn(11, ks), randn(12, 2, 3)),
                    in -> ConvOps.conv(in.get(0), in.get(1), in.get(2), mode, ConvEngine.FFT));
        }
        compare("squash+smooth", List.of(randn(13, 2, 3, 9).mul(0.01)),
                in -> ConvOps.smooth(ConvOps.squash(in.get(0), 0.003), 3));
    }

    @Test
    void languageModelTrainsOnTheDeviceLikeOnTheCpu() {
        // kernel dropout 0: a device draws its masks from a counter-based hash (DropoutMasks), not the CPU's stream
        LongConvLM cpu = LongConvLM.builder().vocab(7).width(8).layers(2).length(16).dtype(DType.F64).kernelDropout(0).seed(3).build();
        LongConvLM dev = LongConvLM.builder().vocab(7).width(8).layers(2).length(16).dtype(DType.F64).kernelDropout(0).seed(3).build();
        dev.to(DEV);
        for (var p : dev.parameters()) assertEquals(DEV, p.value().device(), p.name());
        var oc = new AdamW(ParamGroups.of(cpu).lr(1e-2).build());
        var od = new AdamW(ParamGroups.of(dev).lr(1e-2).build());
        RandomGenerator r = Rng.seeded(4);
        for (int step = 0; step < 3; step++) {
            int[] ids = new int[32], tg = new int[32];
            for (int i = 0; i < 32; i++) { ids[i] = r.nextInt(7); tg[i] = (ids[i] + 1) % 7; }
            oc.zeroGrad();
            od.zeroGrad();
            Tensor lc = cpu.loss(ids, tg, 2, 16, -1), ld = dev.loss(ids, tg, 2, 16, -1);
            lc.backward();
            ld.backward();
            assertEquals(oc.clipGradNorm(1.0), od.clipGradNorm(1.0), 1e-10);
            oc.step();
            od.step();
            assertEquals(lc.item(), ld.item(), 1e-10 * Math.abs(lc.item()), "step " + step);
        }
        var pc = cpu.parameters(); var pd = dev.parameters();
        for (int i = 0; i < pc.size(); i++) assertTrue(relErr(pd.get(i).value(), pc.get(i).value()) < 1e-9, pc.get(i).name());
    }

    @Test
    void classifierWithBatchNormTrainsOnTheDeviceLikeOnTheCpu() {
        for (var norm : ai.longconv4j.models.LongConvClassifier.Norm.values()) {
            // kernel dropout 0: a device draws its masks from a counter-based hash (DropoutMasks), not the CPU's stream
            var cpu = ai.longconv4j.models.LongConvClassifier.builder().vocab(9).classes(3).width(8).layers(2).length(16)
                    .norm(norm).kernelDropout(0).dtype(DType.F64).seed(5).build();
            var dev = ai.longconv4j.models.LongConvClassifier.builder().vocab(9).classes(3).width(8).layers(2).length(16)
                    .norm(norm).kernelDropout(0).dtype(DType.F64).seed(5).build();
            dev.to(DEV);
            var oc = new AdamW(ParamGroups.of(cpu).lr(1e-2).build());
            var od = new AdamW(ParamGroups.of(dev).lr(1e-2).build());
            RandomGenerator r = Rng.seeded(6);
            for (int step = 0; step < 3; step++) {
                int[] ids = new int[4 * 16];
                for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(9);
                int[] labels = {0, 1, 2, 1};
                oc.zeroGrad();
                od.zeroGrad();
                Tensor lc = cpu.logits(ids, 4, 16).crossEntropy(labels, -1), ld = dev.logits(ids, 4, 16).crossEntropy(labels, -1);
                assertEquals(DEV, ld.device());
                lc.backward();
                ld.backward();
                oc.step();
                od.step();
                assertEquals(lc.item(), ld.item(), 1e-10 * Math.abs(lc.item()), norm + " step " + step);
            }
            cpu.eval();
            dev.eval();
            int[] ids = new int[2 * 16];
            for (int i = 0; i < ids.length; i++) ids[i] = i % 9;
            // eval mode uses BatchNorm's running statistics: they must have been updated on the device as on the CPU
            assertTrue(relErr(dev.logits(ids, 2, 16), cpu.logits(ids, 2, 16)) < 1e-9, norm + " eval logits");
        }
    }

    @Test
    void longConvLayerAndModuleDtypeMoveWorkOnTheDevice() {
        // kernel dropout 0 for the comparison (device masks differ from the CPU's: DropoutMasks); then 0.3 runs below
        var cpu = ai.longconv4j.conv.LongConv.builder().features(3).length(9).dtype(DType.F64).kernelDropout(0).seed(8).build();
        var dev = ai.longconv4j.conv.LongConv.builder().features(3).length(9).dtype(DType.F32).kernelDropout(0).seed(8).build();
        dev.to(DEV, DType.F64);
        for (var p : dev.parameters()) {
            assertEquals(DEV, p.value().device());
            assertEquals(DType.F64, p.value().dtype());
        }
        Tensor u = randn(14, 2, 3, 13);
        Tensor yc = cpu.forward(u), yd = dev.forward(u.to(DEV));
        // the device model was built in F32 and widened: its parameters are the F32-rounded ones
        assertTrue(relErr(yd, yc) < 1e-5, "LongConv forward " + relErr(yd, yc));
        yd.sum().backward();
        assertEquals(DEV, dev.skip().grad().device());
        var drop = ai.longconv4j.conv.LongConv.builder().features(3).length(9).dtype(DType.F64).kernelDropout(0.3).seed(8).build();
        drop.to(DEV);
        Tensor yt = drop.forward(u.to(DEV));
        assertEquals(DEV, yt.device());
        assertTrue(relErr(yt, yc) > 0 && relErr(yt, yc) < 1, "kernel dropout 0.3 changes the output a little: " + relErr(yt, yc));
    }

    @Test
    void mixedDevicesAreAnErrorNamingTheOpAndBothDevices() {
        Tensor a = randn(20, 2, 3), b = randn(21, 2, 3).to(DEV);
        var e = assertThrows(IllegalArgumentException.class, () -> a.mul(b));
        assertTrue(e.getMessage().startsWith("mul: operands on different devices: cpu [2, 3] and cuda:7 [2, 3]"), e.getMessage());
        var m = assertThrows(IllegalArgumentException.class, () -> b.matmul(a.transpose(0, 1)));
        assertTrue(m.getMessage().contains("matmul") && m.getMessage().contains("cuda:7"), m.getMessage());
        var c = assertThrows(IllegalArgumentException.class, () -> Tensor.concat(0, a, b));
        assertTrue(c.getMessage().contains("concat"), c.getMessage());
        var v = assertThrows(IllegalArgumentException.class,
                () -> ConvOps.conv(randn(22, 1, 3, 5), randn(23, 3, 5).to(DEV), null, ConvMode.CAUSAL, ConvEngine.FFT));
        assertTrue(v.getMessage().contains("u on cpu, k on cuda:7"), v.getMessage());
    }

    @Test
    void unusableDevicesSayWhy() {
        var e = assertThrows(IllegalStateException.class, () -> Device.cuda(0));
        assertEquals("cuda:0 unavailable: the simulated test backend serves only cuda:7", e.getMessage());
        assertEquals(DEV, Device.cuda(7));
        assertEquals(Device.CPU, Devices.best());
        assertTrue(Devices.describe().startsWith("cpu only: cuda:0 unavailable"), Devices.describe());
        assertTrue(Backends.find(Device.Kind.CUDA).orElseThrow() instanceof SimulatedDeviceBackend);
        var t = assertThrows(IllegalStateException.class, () -> Tensor.zeros(DType.F32, 2).to(new Device(Device.Kind.CUDA, 1)));
        assertTrue(t.getMessage().contains("cuda:1 unavailable"), t.getMessage());
    }

    @Test
    void profilerOnADeviceWaitsForTheDeviceAtEveryEvent() {
        Tensor a = randn(1, 16, 8).to(DEV), b = randn(2, 8, 4).to(DEV);
        long before = SimulatedDeviceBackend.SYNCS.get();
        tech.tablesaw.api.Table t;
        try (var p = ai.longconv4j.profile.Profiler.start(DEV)) {
            a.matmul(b).tanh().sum().item();
            t = p.table();
        }
        long syncs = SimulatedDeviceBackend.SYNCS.get() - before;
        assertTrue(syncs >= 3, "the device clock waits for the queue at each op it times: " + syncs + " waits");
        var names = t.stringColumn("name").asList();
        assertTrue(names.contains("matmul") && names.contains("tanh") && names.contains("sum"), names.toString());
        long before2 = SimulatedDeviceBackend.SYNCS.get();
        try (var p = ai.longconv4j.profile.Profiler.start(Device.CPU)) {
            a.matmul(b).tanh().sum();
        }
        assertEquals(before2, SimulatedDeviceBackend.SYNCS.get(), "the CPU clock never waits on a device");
        long c0 = Devices.clock(Device.CPU).getAsLong();
        assertTrue(Devices.clock(Device.CPU).getAsLong() >= c0, "the CPU clock is nanoTime");
        Devices.clock(DEV).getAsLong();
        assertEquals(before2 + 1, SimulatedDeviceBackend.SYNCS.get(), "a device clock reading waits for the device once");
    }
}
