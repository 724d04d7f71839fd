// Tests for Tensor-level safetensors save/load: round trips of F32/F64 (incl. non-contiguous views and scalars),
// 16-bit storage, integer arrays, metadata, and a failed save leaving the old file intact. Shapes like (B, H, L).
package ai.longconv4j.io;

import static org.junit.jupiter.api.Assertions.*;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorFilesTest {
    @TempDir
    Path dir;

    static Map<String, Tensor> state() {
        var rng = new SplittableRandom(21);
        var m = new LinkedHashMap<String, Tensor>();
        m.put("embed.weight", Tensor.randn(rng, DType.F32, 7, 5));
        m.put("conv.kernel", Tensor.randn(rng, DType.F64, 2, 3, 11)); // (C, H, Lk)
        m.put("proj.weight.T", Tensor.randn(rng, DType.F32, 4, 6).transpose(0, 1)); // non-contiguous view
        m.put("scale", Tensor.scalar(0.125, DType.F64));
        return m;
    }

    @Test
    void roundTripKeepsShapesDtypesAndValuesExactly() throws IOException {
        Path p = dir.resolve("model.safetensors");
        var s = state();
        TensorFiles.save(p, s, Map.of("step", "100"));
        var back = TensorFiles.load(p);
        assertEquals(Map.of("step", "100"), back.metadata());
        assertEquals(List.copyOf(s.keySet()).stream().sorted().toList(), back.tensors().keySet().stream().sorted().toList());
        for (var e : s.entrySet()) {
            Tensor a = e.getValue(), b = back.tensors().get(e.getKey());
            assertArrayEquals(a.shape(), b.shape(), e.getKey());
            assertEquals(a.dtype(), b.dtype(), e.getKey());
            assertArrayEquals(a.toDoubleArray(), b.toDoubleArray(), 0.0, e.getKey()); // bit-exact: no conversion happened
            assertFalse(b.requiresGrad());
        }
        // the transposed view was written row-major in its own (6, 4) shape
        assertEquals(s.get("proj.weight.T").get(5, 3), back.tensors().get("proj.weight.T").get(5, 3));
    }

    @Test
    void bf16AndF16StorageRoundToNearestAndLoadAsF32() throws IOException {
        Path p = dir.resolve("half.safetensors");
        var s = state();
        TensorFiles.save(p, s, Map.of(), ElementType.BF16);
        for (var e : SafeTensors.entries(p)) assertEquals(ElementType.BF16, e.dtype());
        var back = TensorFiles.load(p).tensors();
        for (var e : s.entrySet()) {
            Tensor b = back.get(e.getKey());
            assertEquals(DType.F32, b.dtype());
            double[] want = e.getValue().toDoubleArray();
            float[] got = b.toFloatArray();
            for (int i = 0; i < want.length; i++) {
                // bf16 keeps 8 significant bits: unit roundoff 2^-8 = largest relative error of round-to-nearest
                assertEquals(want[i], got[i], Math.abs(want[i]) * 0x1p-8, e.getKey() + "[" + i + "]");
                assertEquals(got[i], ElementType.fromBf16(ElementType.toBf16(got[i])), "value is a bf16 number");
            }
        }
        // negative control: F16 keeps 11 bits, so F16 storage is closer than bf16 for these values
        Path q = dir.resolve("f16.safetensors");
        TensorFiles.save(q, s, Map.of(), ElementType.F16);
        double errBf = maxErr(s.get("embed.weight"), back.get("embed.weight"));
        double errF16 = maxErr(s.get("embed.weight"), TensorFiles.load(q).tensors().get("embed.weight"));
        // 3 more mantissa bits = 8x smaller unit roundoff; the max over 35 values is noisy, so ask for 2x
        assertTrue(errF16 < errBf / 2, "f16 " + errF16 + " vs bf16 " + errBf);
        assertTrue(errBf > 0, "bf16 storage must lose something for random normals");
    }

    static double maxErr(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double m = 0;
        for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
        return m;
    }

    @Test
    void integerArraysLoadAsF64() throws IOException {
        Path p = dir.resolve("ints.safetensors");
        SafeTensors.write(p, List.of(NamedArray.ofLongs("step", new long[] {12345}), NamedArray.ofInts("ids", new int[] {1, -2, 3}, 3)), Map.of());
        var t = TensorFiles.load(p).tensors();
        assertEquals(DType.F64, t.get("step").dtype());
        assertEquals(12345.0, t.get("step").item());
        assertArrayEquals(new double[] {1, -2, 3}, t.get("ids").toDoubleArray());
        SafeTensors.write(p, List.of(NamedArray.ofLongs("big", new long[] {(1L << 53) + 1})), Map.of());
        assertThrows(IllegalArgumentException.class, () -> TensorFiles.load(p));
    }

    @Test
    void moduleStateDictRoundTripGivesIdenticalOutputs() throws IOException {
        // (B, H) = (3, 8) through Linear(8 -> 16) -> LayerNorm(16) -> Linear(16 -> 4)
        var a = ai.longconv4j.nn.Sequential.of(new ai.longconv4j.nn.Linear(8, 16, new SplittableRandom(1)),
                new ai.longconv4j.nn.LayerNorm(16, DType.F32), new ai.longconv4j.nn.Linear(16, 4, new SplittableRandom(2)));
        var b = ai.longconv4j.nn.Sequential.of(new ai.longconv4j.nn.Linear(8, 16, new SplittableRandom(3)),
                new ai.longconv4j.nn.LayerNorm(16, DType.F32), new ai.longconv4j.nn.Linear(16, 4, new SplittableRandom(4)));
        Tensor x = Tensor.randn(new SplittableRandom(5), DType.F32, 3, 8);
        Path p = dir.resolve("seq.safetensors");
        TensorFiles.save(p, a.stateDict(), Map.of("model", "seq"));
        float[] before = b.forward(x).toFloatArray();
        assertFalse(java.util.Arrays.equals(a.forward(x).toFloatArray(), before), "control: different weights differ");
        b.loadStateDict(TensorFiles.load(p).tensors());
        assertArrayEquals(a.forward(x).toFloatArray(), b.forward(x).toFloatArray(), 0f); // bit-exact weights
    }

    @Test
    void failedSaveLeavesPreviousCheckpoint() throws IOException {
        Path p = dir.resolve("ck.safetensors");
        TensorFiles.save(p, state(), Map.of("step", "1"));
        byte[] before = Files.readAllBytes(p);
        var bad = new LinkedHashMap<>(state());
        bad.put(SafeTensors.METADATA_KEY, Tensor.scalar(1, DType.F32)); // reserved name -> rejected before writing
        assertThrows(IllegalArgumentException.class, () -> TensorFiles.save(p, bad, Map.of("step", "2")));
        assertArrayEquals(before, Files.readAllBytes(p));
        Files.write(p, java.util.Arrays.copyOf(before, before.length - 3)); // truncated on disk
        var e = assertThrows(SafeTensorsFormatException.class, () -> TensorFiles.load(p));
        assertTrue(e.getMessage().contains("ck.safetensors"), e.getMessage());
    }
}
