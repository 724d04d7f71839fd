// Reader and writer for the safetensors layout (arrays of any shape; see NamedArray for the element layout).
// File = [u64 LE n][n bytes UTF-8 JSON header, space padded][data]; offsets in the header are relative to data.
package ai.longconv4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes checkpoint files in the safetensors layout, so PyTorch ({@code safetensors.torch.load_file})
 * can read what we write and we can read what it writes.
 *
 * <p>Layout: 8-byte little-endian unsigned header length {@code n}; {@code n} bytes of UTF-8 JSON
 * {@code {"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}};
 * then the data buffer. {@code [begin, end)} are byte offsets into the data buffer, which must be covered
 * exactly (no overlaps, no holes). The writer pads the header with spaces to a multiple of 8 bytes, writes metadata
 * keys sorted, and orders arrays as the reference implementation does (by dtype: I64, F64, F32, I32, BF16, F16, then
 * by name), so every array is aligned to its element size and a file equals {@code safetensors.torch.save_file}'s
 * byte for byte (checked against a file written by safetensors 0.8.0).
 *
 * <p>Writes are atomic ({@link AtomicFiles}): on failure an existing file is left untouched. Any defect in a file
 * read (short file, bad header length, bad UTF-8 or JSON, unknown dtype, offsets out of range or overlapping)
 * throws {@link SafeTensorsFormatException} naming the file.
 *
 * <pre>{@code
 * jshell> SafeTensors.write(Path.of("m.safetensors"), List.of(NamedArray.ofFloats("w", new float[]{1, 2}, 2)), Map.of("step", "10"))
 * jshell> SafeTensors.read(Path.of("m.safetensors")).metadata()
 * $2 ==> {step=10}
 * }</pre>
 */
public final class SafeTensors {
    /** Largest header accepted when reading (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** The reserved header key holding the string-to-string metadata map. */
    public static final String METADATA_KEY = "__metadata__";

    private SafeTensors() {}

    /** A file's arrays (in header order) and its metadata (empty when absent). */
    public record Contents(Map<String, NamedArray> arrays, Map<String, String> metadata) {
        public Contents {
            arrays = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(arrays));
            metadata = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }

        /** The named array; a missing name throws IllegalArgumentException listing the names present. */
        public NamedArray get(String name) {
            NamedArray a = arrays.get(name);
            if (a == null) throw new IllegalArgumentException("safetensors: no array \"" + name + "\"; present: " + arrays.keySet());
            return a;
        }
    }

    /** One header entry: where an array lives in the data buffer. */
    public record Entry(String name, ElementType dtype, int[] shape, long begin, long end) {}

    // ---------------------------------------------------------------- writing

    /** Writes {@code arrays} and {@code metadata} to {@code file} atomically. Names must be unique. */
    public static void write(Path file, Collection<NamedArray> arrays, Map<String, String> metadata) throws IOException {
        List<NamedArray> ordered = ordered(arrays);
        byte[] header = header(ordered, metadata);
        AtomicFiles.write(file, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            AtomicFiles.writeFully(ch, len);
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            for (NamedArray a : ordered) AtomicFiles.writeFully(ch, a.data());
        });
    }

    /** The complete file image in memory (same bytes {@link #write} puts on disk). */
    public static byte[] toBytes(Collection<NamedArray> arrays, Map<String, String> metadata) {
        List<NamedArray> ordered = ordered(arrays);
        byte[] header = header(ordered, metadata);
        long total = 8L + header.length + ordered.stream().mapToLong(NamedArray::byteSize).sum();
        if (total > Integer.MAX_VALUE) throw new IllegalArgumentException("safetensors: image over 2 GiB; use write(Path, ...)");
        ByteBuffer b = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        for (NamedArray a : ordered) b.put(a.data());
        return b.array();
    }

    private static List<NamedArray> ordered(Collection<NamedArray> arrays) {
        var seen = new HashSet<String>();
        for (NamedArray a : arrays) {
            if (a.name().equals(METADATA_KEY)) throw new IllegalArgumentException("safetensors: array name " + METADATA_KEY + " is reserved");
            if (!seen.add(a.name())) throw new IllegalArgumentException("safetensors: duplicate array name \"" + a.name() + "\"");
        }
        var list = new ArrayList<>(arrays);
        list.sort(Comparator.comparingInt((NamedArray a) -> -writeRank(a.dtype())).thenComparing(NamedArray::name));
        return list;
    }

    /**
     * Data order of the reference writer (its dtype order, descending): I64, F64, F32, I32, BF16, F16 — element sizes
     * never increase, so every array is aligned to its size; ties by name.
     */
    private static int writeRank(ElementType t) {
        return switch (t) {
            case I64 -> 5;
            case F64 -> 4;
            case F32 -> 3;
            case I32 -> 2;
            case BF16 -> 1;
            case F16 -> 0;
        };
    }

    private static byte[] header(List<NamedArray> ordered, Map<String, String> metadata) {
        StringBuilder b = new StringBuilder("{");
        boolean first = true;
        if (metadata != null && !metadata.isEmpty()) {
            Json.quote(b, METADATA_KEY);
            b.append(':');
            Json.write(b, new java.util.TreeMap<>(metadata)); // sorted keys: same bytes for equal maps
            first = false;
        }
        long offset = 0;
        for (NamedArray a : ordered) {
            if (!first) b.append(',');
            first = false;
            Json.quote(b, a.name());
            b.append(":{\"dtype\":\"").append(a.dtype().name()).append("\",\"shape\":");
            Json.write(b, a.shape());
            b.append(",\"data_offsets\":[").append(offset).append(',').append(offset + a.byteSize()).append("]}");
            offset += a.byteSize();
        }
        b.append('}');
        byte[] raw = b.toString().getBytes(StandardCharsets.UTF_8);
        byte[] padded = java.util.Arrays.copyOf(raw, (raw.length + 7) / 8 * 8);
        java.util.Arrays.fill(padded, raw.length, padded.length, (byte) ' ');
        return padded;
    }

    // ---------------------------------------------------------------- reading

    /** Reads every array and the metadata of {@code file}. */
    public static Contents read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            String where = file.toString();
            long size = ch.size();
            Parsed p = parseHeader(where, size, (at, n) -> readFully(ch, n, at, where));
            var arrays = new LinkedHashMap<String, NamedArray>();
            for (Entry e : p.entries) {
                ByteBuffer data = readFully(ch, (int) (e.end - e.begin), p.dataStart + e.begin, where);
                arrays.put(e.name, new NamedArray(e.name, e.dtype, e.shape, data));
            }
            return new Contents(arrays, p.metadata);
        }
    }

    /** Reads the header entries (no data) of {@code file}: names, types, shapes, offsets. */
    public static List<Entry> entries(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            String where = file.toString();
            return parseHeader(where, ch.size(), (at, n) -> readFully(ch, n, at, where)).entries;
        }
    }

    /** Parses an in-memory file image (see {@link #toBytes}). */
    public static Contents fromBytes(byte[] image) throws SafeTensorsFormatException {
        ByteBuffer all = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        Parsed p = parseHeader("<bytes>", image.length, (at, n) -> all.slice((int) at, n));
        var arrays = new LinkedHashMap<String, NamedArray>();
        for (Entry e : p.entries)
            arrays.put(e.name, new NamedArray(e.name, e.dtype, e.shape, all.slice((int) (p.dataStart + e.begin), (int) (e.end - e.begin))));
        return new Contents(arrays, p.metadata);
    }

    private interface HeaderSource {
        ByteBuffer read(long at, int n) throws IOException;
    }

    private record Parsed(List<Entry> entries, Map<String, String> metadata, long dataStart) {}

    private static ByteBuffer readFully(FileChannel ch, int n, long at, String where) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            int r = ch.read(b, at + b.position());
            if (r < 0) throw new SafeTensorsFormatException("safetensors " + where + ": file ends early (truncated?)");
        }
        return b.flip();
    }

    private static Parsed parseHeader(String where, long size, HeaderSource src) throws SafeTensorsFormatException {
        String pre = "safetensors " + where + ": ";
        if (size < 8) throw new SafeTensorsFormatException(pre + "file is " + size + " bytes, shorter than the 8-byte header length (truncated?)");
        ByteBuffer hb;
        long n;
        try {
            n = src.read(0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            if (n <= 0 || n > MAX_HEADER_BYTES || n > size - 8)
                throw new SafeTensorsFormatException(pre + "header length " + Long.toUnsignedString(n) + " is invalid for a file of " + size
                        + " bytes (must be 1.." + Math.min(MAX_HEADER_BYTES, size - 8) + "; truncated or not a safetensors file?)");
            hb = src.read(8, (int) n);
        } catch (SafeTensorsFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new SafeTensorsFormatException(pre + e.getMessage(), e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(hb).toString();
        } catch (CharacterCodingException e) {
            throw new SafeTensorsFormatException(pre + "header is not valid UTF-8", e);
        }
        Map<String, Object> json;
        try {
            json = Json.parseObject(text);
        } catch (IllegalArgumentException e) {
            throw new SafeTensorsFormatException(pre + "header is not a valid JSON object: " + e.getMessage(), e);
        }
        long dataSize = size - 8 - n;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (var kv : json.entrySet()) {
            String name = kv.getKey();
            if (name.equals(METADATA_KEY)) {
                if (!(kv.getValue() instanceof Map<?, ?> m)) throw new SafeTensorsFormatException(pre + METADATA_KEY + " must be an object of strings");
                for (var me : m.entrySet()) {
                    if (!(me.getValue() instanceof String v))
                        throw new SafeTensorsFormatException(pre + METADATA_KEY + " value for \"" + me.getKey() + "\" is a " + Json.typeName(me.getValue()) + ", expected a string");
                    metadata.put((String) me.getKey(), v);
                }
                continue;
            }
            entries.add(entry(pre, name, kv.getValue(), dataSize));
        }
        checkCoverage(pre, entries, dataSize);
        return new Parsed(entries, metadata, 8 + n);
    }

    private static Entry entry(String pre, String name, Object value, long dataSize) throws SafeTensorsFormatException {
        String at = pre + "array \"" + name + "\": ";
        if (!(value instanceof Map<?, ?> m)) throw new SafeTensorsFormatException(at + "expected an object, got " + Json.typeName(value));
        if (!(m.get("dtype") instanceof String dt)) throw new SafeTensorsFormatException(at + "missing string \"dtype\"");
        ElementType type;
        try {
            type = ElementType.parse(dt);
        } catch (IllegalArgumentException e) {
            throw new SafeTensorsFormatException(at + e.getMessage());
        }
        long[] shapeL = longs(at, "shape", m.get("shape"), -1);
        long[] off = longs(at, "data_offsets", m.get("data_offsets"), 2);
        int[] shape = new int[shapeL.length];
        long numel = 1;
        for (int i = 0; i < shapeL.length; i++) {
            if (shapeL[i] < 0 || shapeL[i] > Integer.MAX_VALUE) throw new SafeTensorsFormatException(at + "dimension " + shapeL[i] + " out of range");
            shape[i] = (int) shapeL[i];
            numel = Math.multiplyHigh(numel, shapeL[i]) != 0 ? Long.MAX_VALUE : numel * shapeL[i];
        }
        long begin = off[0], end = off[1];
        if (begin < 0 || end < begin || end > dataSize)
            throw new SafeTensorsFormatException(at + "data_offsets [" + begin + ", " + end + "] out of range for a data buffer of " + dataSize + " bytes (truncated?)");
        if (numel > Integer.MAX_VALUE || numel * type.bytes() != end - begin)
            throw new SafeTensorsFormatException(at + "shape " + java.util.Arrays.toString(shape) + " of " + type + " needs "
                    + (numel > Integer.MAX_VALUE ? "more than 2^31 elements" : (numel * type.bytes()) + " bytes") + ", data_offsets span " + (end - begin));
        return new Entry(name, type, shape, begin, end);
    }

    private static long[] longs(String at, String key, Object v, int wantLen) throws SafeTensorsFormatException {
        if (!(v instanceof List<?> list)) throw new SafeTensorsFormatException(at + "missing array \"" + key + "\"");
        if (wantLen >= 0 && list.size() != wantLen) throw new SafeTensorsFormatException(at + "\"" + key + "\" must have " + wantLen + " entries, has " + list.size());
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long l)) throw new SafeTensorsFormatException(at + "\"" + key + "\" entry " + i + " is not an integer: " + list.get(i));
            out[i] = l;
        }
        return out;
    }

    private static void checkCoverage(String pre, List<Entry> entries, long dataSize) throws SafeTensorsFormatException {
        var sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        String prev = null;
        for (Entry e : sorted) {
            if (e.begin < covered)
                throw new SafeTensorsFormatException(pre + "arrays \"" + prev + "\" and \"" + e.name + "\" have overlapping data_offsets");
            if (e.begin > covered)
                throw new SafeTensorsFormatException(pre + "data bytes [" + covered + ", " + e.begin + ") belong to no array (hole before \"" + e.name + "\")");
            covered = e.end;
            prev = e.name;
        }
        if (covered != dataSize)
            throw new SafeTensorsFormatException(pre + "data buffer is " + dataSize + " bytes but the arrays cover " + covered + " (truncated or trailing bytes)");
    }
}
