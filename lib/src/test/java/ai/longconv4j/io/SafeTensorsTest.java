// Tests for the safetensors reader/writer: round trips, a golden image built from the spec, corrupt files,
// atomic writes, and a cross-check with an independent Python reader. Arrays are small (shapes like (2, 3)).
package ai.longconv4j.io;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path dir;

    static List<NamedArray> sample() {
        var rng = new SplittableRandom(7);
        double[] d = rng.doubles(6, -3, 3).toArray();
        float[] f = new float[12];
        for (int i = 0; i < f.length; i++) f[i] = (float) rng.nextGaussian();
        return List.of(
                NamedArray.ofFloats("layer.0.weight", f, 3, 4),
                NamedArray.ofDoubles("kernel", d, 1, 2, 3),
                NamedArray.of("half", ElementType.F16, new double[] {0.5, -1.25, 65504, 1e-3}, 4),
                NamedArray.of("brain", ElementType.BF16, new double[] {1, 2, 3}, 3),
                NamedArray.ofInts("ids", new int[] {3, -1, Integer.MAX_VALUE}, 3),
                NamedArray.ofLongs("step", new long[] {1L << 40}),
                NamedArray.ofFloats("empty", new float[0], 0, 5),
                NamedArray.ofFloats("scalar", new float[] {2.5f}));
    }

    @Test
    void roundTripThroughFileKeepsEverything() throws IOException {
        Path p = dir.resolve("m.safetensors");
        var meta = Map.of("format", "pt", "step", "12", "note", "ünï \"quoted\"");
        SafeTensors.write(p, sample(), meta);
        var c = SafeTensors.read(p);
        assertEquals(meta, c.metadata());
        assertEquals(sample().size(), c.arrays().size());
        for (NamedArray a : sample()) assertEquals(a, c.get(a.name()), a.name());
        assertArrayEquals(new int[] {0, 5}, c.get("empty").shape());
        assertArrayEquals(new int[0], c.get("scalar").shape());
        assertEquals(Long.valueOf(1L << 40), c.get("step").toLongArray()[0]);
        // every array aligned to its element size within the file
        long dataStart = 8 + ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, dataStart % 8);
        for (var e : SafeTensors.entries(p)) assertEquals(0, e.begin() % e.dtype().bytes(), e.name());
        assertEquals(c.arrays(), SafeTensors.fromBytes(Files.readAllBytes(p)).arrays());
    }

    @Test
    void toBytesEqualsFileBytes() throws IOException {
        Path p = dir.resolve("x.safetensors");
        var meta = new java.util.LinkedHashMap<String, String>();
        meta.put("a", "1");
        SafeTensors.write(p, sample(), meta);
        assertArrayEquals(Files.readAllBytes(p), SafeTensors.toBytes(sample(), meta));
    }

    /** The expected image written out byte by byte from the format description, not from our writer. */
    static byte[] goldenImage() {
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[1,1],\"data_offsets\":[8,12]},"
                + "\"c\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[12,16]}}";
        int padded = (header.length() + 7) / 8 * 8;
        header = header + " ".repeat(padded - header.length());
        var out = new java.io.ByteArrayOutputStream();
        long n = header.length();
        for (int i = 0; i < 8; i++) out.write((int) (n >>> (8 * i)) & 0xFF);
        out.writeBytes(header.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(new byte[] {0x00, 0x00, (byte) 0x80, 0x3F}); // 1.0f
        out.writeBytes(new byte[] {0x00, 0x00, 0x00, (byte) 0xC0}); // -2.0f
        out.writeBytes(new byte[] {0x07, 0x00, 0x00, 0x00}); // int 7
        out.writeBytes(new byte[] {(byte) 0x80, 0x3F}); // bf16 1.0 = 0x3F80
        out.writeBytes(new byte[] {0x40, (byte) 0xC0}); // bf16 -3.0 = 0xC040
        return out.toByteArray();
    }

    @Test
    void writerMatchesHandBuiltGoldenImage() throws IOException {
        var arrays = List.of(NamedArray.ofFloats("a", new float[] {1f, -2f}, 2), NamedArray.ofInts("b", new int[] {7}, 1, 1),
                NamedArray.of("c", ElementType.BF16, new double[] {1, -3}, 2));
        byte[] golden = goldenImage();
        assertArrayEquals(golden, SafeTensors.toBytes(arrays, Map.of("format", "pt")));
        Path p = dir.resolve("g.safetensors");
        Files.write(p, golden);
        var c = SafeTensors.read(p);
        assertArrayEquals(new float[] {1f, -2f}, c.get("a").toFloatArray());
        assertArrayEquals(new long[] {7}, c.get("b").toLongArray());
        assertArrayEquals(new double[] {1, -3}, c.get("c").toDoubleArray());
        assertEquals(Map.of("format", "pt"), c.metadata());
    }

    @Test
    void readsForeignHeaderStyle() throws IOException {
        // other writers: whitespace, different key order, no metadata, tensors listed out of data order
        String header = "{ \"y\" : { \"data_offsets\" : [ 8, 16 ], \"shape\" : [ 1 ], \"dtype\" : \"F64\" },\n"
                + "  \"x\" : { \"shape\" : [ 2 ], \"dtype\" : \"F32\", \"data_offsets\" : [ 0, 8 ] } }";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).putFloat(0.5f).putFloat(4f).putDouble(-7.25);
        var c = SafeTensors.fromBytes(b.array());
        assertEquals(List.of("y", "x"), List.copyOf(c.arrays().keySet()));
        assertArrayEquals(new double[] {-7.25}, c.get("y").toDoubleArray());
        assertArrayEquals(new float[] {0.5f, 4f}, c.get("x").toFloatArray());
        assertTrue(c.metadata().isEmpty());
    }

    static byte[] image(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    static void assertCorrupt(byte[] image, String expectInMessage) {
        var e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.fromBytes(image));
        assertTrue(e.getMessage().contains(expectInMessage), () -> "message: " + e.getMessage());
    }

    @Test
    void corruptImagesAreRejectedClearly() {
        String ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertDoesNotThrow(() -> SafeTensors.fromBytes(image(ok, 8)));
        assertCorrupt(new byte[5], "shorter than the 8-byte header length");
        byte[] huge = image(ok, 8);
        huge[0] = (byte) 0xFF; // header length larger than the file
        assertCorrupt(huge, "header length");
        byte[] negative = image(ok, 8);
        negative[7] = (byte) 0x80; // top bit: length >= 2^63 as unsigned
        assertCorrupt(negative, "header length");
        assertCorrupt(image("{\"a\":{\"dtype\":\"F32\",", 8), "not a valid JSON object");
        assertCorrupt(image("[1,2]", 8), "not a valid JSON object");
        byte[] badUtf8 = image(ok, 8);
        badUtf8[10] = (byte) 0xFF;
        assertCorrupt(badUtf8, "not valid UTF-8");
        assertCorrupt(image(ok, 4), "out of range"); // truncated data
        assertCorrupt(image(ok, 12), "cover 8"); // trailing bytes
        assertCorrupt(image(ok.replace("F32", "Q7"), 8), "unsupported safetensors dtype");
        assertCorrupt(image(ok.replace("[2]", "[3]"), 8), "needs 12 bytes");
        assertCorrupt(image(ok.replace("[0,8]", "[8,0]"), 8), "out of range");
        assertCorrupt(image(ok.replace("[0,8]", "[0]"), 8), "must have 2 entries");
        assertCorrupt(image(ok.replace("[2]", "[-2]"), 8), "out of range");
        String two = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        assertCorrupt(image(two, 12), "overlapping");
        String hole = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
        assertCorrupt(image(hole, 12), "belong to no array");
        assertCorrupt(image("{\"__metadata__\":{\"k\":1}}", 0), "expected a string");
    }

    @Test
    void truncatedFileOnDiskIsRejectedAndNamesTheFile() throws IOException {
        Path p = dir.resolve("t.safetensors");
        SafeTensors.write(p, sample(), Map.of());
        byte[] all = Files.readAllBytes(p);
        for (int cut : new int[] {3, 8, 20, all.length - 1}) {
            Path q = dir.resolve("cut" + cut + ".safetensors");
            Files.write(q, java.util.Arrays.copyOf(all, cut));
            var e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.read(q), "cut at " + cut);
            assertTrue(e.getMessage().contains(q.toString()), e.getMessage());
        }
    }

    @Test
    void failedWriteLeavesExistingFileUntouched() throws IOException {
        Path p = dir.resolve("keep.safetensors");
        SafeTensors.write(p, sample(), Map.of("v", "1"));
        byte[] before = Files.readAllBytes(p);
        var dup = List.of(NamedArray.ofFloats("w", new float[] {1}, 1), NamedArray.ofFloats("w", new float[] {2}, 1));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(p, dup, Map.of()));
        // a failure in the middle of writing (after the temp file exists)
        assertThrows(IOException.class, () -> AtomicFiles.write(p, ch -> {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            throw new IOException("disk full (simulated)");
        }));
        assertArrayEquals(before, Files.readAllBytes(p));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(p.getFileName().toString()), s.map(x -> x.getFileName().toString()).toList(), "no temp files left");
        }
    }

    @Test
    void bf16RoundsToNearestEvenAgainstSlowTwin() {
        var rng = new SplittableRandom(3);
        for (int i = 0; i < 200_000; i++) {
            float v = Float.intBitsToFloat(rng.nextInt());
            if (Float.isNaN(v)) {
                assertTrue(Float.isNaN(ElementType.fromBf16(ElementType.toBf16(v))));
                continue;
            }
            float got = ElementType.fromBf16(ElementType.toBf16(v));
            assertEquals(slowBf16(v), got, 0.0, () -> "v=" + v);
        }
        assertEquals(1.0f, ElementType.fromBf16(ElementType.toBf16(1.00390625f))); // tie, even stays 1.0
        assertEquals(1.015625f, ElementType.fromBf16(ElementType.toBf16(1.01171875f))); // tie between 1+1/128 (odd) and 1+2/128: even
    }

    /** Nearest bf16 by comparing the two truncation neighbours in double precision; ties to the even one. */
    static float slowBf16(float v) {
        if (Float.isInfinite(v)) return v;
        int lo = Float.floatToRawIntBits(v) & 0xFFFF0000;
        int hi = lo + 0x10000; // next bf16 away from zero; may be the infinity pattern
        double loVal = Float.intBitsToFloat(lo);
        float fHi = Float.intBitsToFloat(hi);
        // IEEE: overflow is judged as if infinity were the next power of two, 2^128
        double hiVal = Float.isInfinite(fHi) ? Math.copySign(Math.scalb(1.0, 128), v) : fHi;
        double dLo = Math.abs(loVal - v), dHi = Math.abs(hiVal - v);
        if (dLo < dHi) return (float) loVal;
        if (dHi < dLo) return fHi;
        return ((lo >>> 16) & 1) == 0 ? (float) loVal : fHi;
    }

    /**
     * A file written by Python's safetensors 0.8.0 / torch 2.11 ({@code save_file} of the tensors below, with
     * metadata format=pt, source=torch), stored as a test resource: we read theirs, and our writer produces the same
     * bytes from the same values.
     */
    static List<NamedArray> torchFixtureArrays() {
        double[] w = {-1.375, 0.1, 3e-3, 7.25};
        return List.of(NamedArray.ofDoubles("f64", w, 2, 2), NamedArray.of("f32", ElementType.F32, w, 4),
                NamedArray.of("bf16", ElementType.BF16, w, 4), NamedArray.of("f16", ElementType.F16, w, 1, 4),
                NamedArray.ofLongs("i64", new long[] {-3, 1L << 40}, 2), NamedArray.ofInts("i32", new int[] {5, -6}, 2),
                NamedArray.ofFloats("s", new float[] {2.5f}), NamedArray.ofFloats("e", new float[0], 0, 3));
    }

    @Test
    void readsFileWrittenByTorchAndWritesTheSameBytes() throws IOException {
        byte[] theirs;
        try (var in = SafeTensorsTest.class.getResourceAsStream("torch-written.safetensors")) {
            assertNotNull(in, "test resource torch-written.safetensors");
            theirs = in.readAllBytes();
        }
        var c = SafeTensors.fromBytes(theirs);
        assertEquals(Map.of("format", "pt", "source", "torch"), c.metadata());
        for (NamedArray want : torchFixtureArrays()) assertEquals(want, c.get(want.name()), want.name()); // dtype, shape, bytes
        assertArrayEquals(new double[] {-1.375, 0.10009765625, 0.0030059814453125, 7.25}, c.get("bf16").toDoubleArray(), 0.0);
        assertArrayEquals(theirs, SafeTensors.toBytes(torchFixtureArrays(), Map.of("source", "torch", "format", "pt")));
    }

    // ------------------------------------------------------------ Python cross-checks

    static boolean python(String module) {
        try {
            Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import " + module).redirectErrorStream(true).start();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    static String runPython(String script, Path file) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", script, file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out.strip();
    }

    @Test
    void readableByIndependentStdlibPythonParser() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no /usr/bin/python3 on this machine");
        Path p = dir.resolve("py.safetensors");
        SafeTensors.write(p, sample(), Map.of("format", "pt"));
        // struct/json only: sum of each array's values, printed with repr precision
        String script = """
                import json, struct, sys
                b = open(sys.argv[1], 'rb').read()
                n = struct.unpack('<Q', b[:8])[0]
                h = json.loads(b[8:8 + n])
                meta = h.pop('__metadata__', {})
                codes = {'F64': 'd', 'F32': 'f', 'F16': 'e', 'I64': 'q', 'I32': 'i'}
                out = [json.dumps(meta, sort_keys=True)]
                for name in sorted(h):
                    e = h[name]; s, t = e['data_offsets']; raw = b[8 + n + s: 8 + n + t]
                    if e['dtype'] == 'BF16':
                        vals = [struct.unpack('<f', b'\\x00\\x00' + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
                    else:
                        c = codes[e['dtype']]; vals = list(struct.unpack('<%d%s' % (len(raw) // struct.calcsize(c), c), raw))
                    out.append('%s %s %s %r' % (name, e['dtype'], e['shape'], float(sum(vals))))
                print('\\n'.join(out))
                """;
        String got = runPython(script, p);
        StringBuilder want = new StringBuilder("{\"format\": \"pt\"}");
        sample().stream().sorted(java.util.Comparator.comparing(NamedArray::name)).forEach(a -> {
            double sum = 0;
            for (double v : a.toDoubleArray()) sum += v;
            want.append('\n').append(a.name()).append(' ').append(a.dtype()).append(' ').append(java.util.Arrays.toString(a.shape()))
                    .append(' ').append(pyRepr(sum));
        });
        assertEquals(want.toString(), got);
    }

    /** Python's repr of a float: shortest round-trip digits, like Java's Double.toString but with Python's spelling. */
    static String pyRepr(double v) {
        java.math.BigDecimal d = new java.math.BigDecimal(Double.toString(v));
        if (v == Math.rint(v) && Math.abs(v) < 1e16) return d.setScale(1, java.math.RoundingMode.UNNECESSARY).toPlainString();
        if (Math.abs(v) >= 1e-4 && Math.abs(v) < 1e16) return d.stripTrailingZeros().toPlainString();
        return Double.toString(v).replace("E", "e");
    }

    @Test
    void readableByPythonSafetensorsIfInstalled() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no /usr/bin/python3 on this machine");
        Assumptions.assumeTrue(python("safetensors.numpy") && python("numpy"),
                "python3 has no safetensors/numpy package here; the stdlib parser test above is the cross-check");
        Path p = dir.resolve("st.safetensors");
        SafeTensors.write(p, sample().stream().filter(a -> a.dtype() != ElementType.BF16).toList(), Map.of("format", "np"));
        String got = runPython("""
                import sys
                from safetensors.numpy import load_file
                d = load_file(sys.argv[1])
                print(sorted(d), repr(float(d['kernel'].sum())), d['layer.0.weight'].shape)
                """, p);
        double sum = 0;
        for (double v : sample().get(1).toDoubleArray()) sum += v;
        assertEquals("['empty', 'half', 'ids', 'kernel', 'layer.0.weight', 'scalar', 'step'] " + pyRepr(sum) + " (3, 4)", got);
    }
}
