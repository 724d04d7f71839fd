// Tensor-level safetensors save/load: Map<String, Tensor> <-> file. Shapes are kept as they are (any rank).
package ai.longconv4j.io;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Saves and loads named tensors (a model's {@code stateDict()}) as safetensors files, readable by
 * {@code safetensors.torch.load_file}. Tensors are written in row-major order whatever their strides, in their
 * own dtype unless a storage type is given (e.g. {@code BF16} to halve the file). Loading gives contiguous CPU
 * leaf tensors without gradients: F64 stays F64, F32 stays F32, BF16 and F16 become F32 (exactly; the CPU computes
 * in F32/F64), I32 and I64 become F64 (exact below 2^53, else an error). Writes are atomic; corrupt files throw
 * {@link SafeTensorsFormatException} (see {@link SafeTensors}).
 *
 * <pre>{@code
 * jshell> TensorFiles.save(Path.of("model.safetensors"), model.stateDict(), Map.of("step", "1000"))
 * jshell> var ck = TensorFiles.load(Path.of("model.safetensors")); model.loadStateDict(ck.tensors())
 * }</pre>
 */
public final class TensorFiles {
    private TensorFiles() {}

    /** Tensors (in file order) and metadata of a loaded file. */
    public record Loaded(Map<String, Tensor> tensors, Map<String, String> metadata) {
        public Loaded {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Map.copyOf(metadata);
        }
    }

    /** Saves each tensor in its own dtype. */
    public static void save(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        save(file, tensors, metadata, null);
    }

    /** Saves every floating tensor as {@code storeAs} (null: own dtype); rounding is to nearest even. */
    public static void save(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, ElementType storeAs) throws IOException {
        List<NamedArray> arrays = new ArrayList<>(tensors.size());
        for (var e : tensors.entrySet()) arrays.add(toNamedArray(e.getKey(), e.getValue(), storeAs));
        SafeTensors.write(file, arrays, metadata);
    }

    /** Loads every array as a tensor (see the class comment for the dtype mapping). */
    public static Loaded load(Path file) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (NamedArray a : c.arrays().values()) out.put(a.name(), toTensor(a));
        return new Loaded(out, c.metadata());
    }

    /** The storage type matching a tensor dtype. */
    public static ElementType elementType(DType d) {
        return switch (d) {
            case F64 -> ElementType.F64;
            case F32 -> ElementType.F32;
            case BF16 -> ElementType.BF16;
            case F16 -> ElementType.F16;
        };
    }

    /** A tensor's values (row-major) as a named array of type {@code storeAs} (null: the tensor's own type). */
    public static NamedArray toNamedArray(String name, Tensor t, ElementType storeAs) {
        ElementType type = storeAs != null ? storeAs : elementType(t.dtype());
        int[] shape = t.shape();
        return switch (type) {
            case F64 -> NamedArray.ofDoubles(name, t.toDoubleArray(), shape);
            case F32 -> NamedArray.ofFloats(name, t.toFloatArray(), shape);
            // 16-bit types round once from the widest value we have; F32 -> BF16/F16 and F64 -> BF16/F16 differ only
            // in double-rounding corner cases, so go through float only when the tensor is F32 (or 16-bit) already
            case BF16, F16, I32, I64 -> t.dtype() == DType.F64 ? NamedArray.of(name, type, t.toDoubleArray(), shape)
                    : NamedArray.of(name, type, toDoubles(t.toFloatArray()), shape);
        };
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    /** A named array as a contiguous CPU tensor (see the class comment for the dtype mapping). */
    public static Tensor toTensor(NamedArray a) {
        int[] shape = a.shape();
        return switch (a.dtype()) {
            case F64 -> Tensor.of(a.toDoubleArray(), shape);
            case F32, BF16, F16 -> Tensor.of(a.toFloatArray(), shape);
            case I32 -> Tensor.of(a.toDoubleArray(), shape);
            case I64 -> {
                long[] v = a.toLongArray();
                double[] d = new double[v.length];
                for (int i = 0; i < v.length; i++) {
                    if (Math.abs(v[i]) > (1L << 53))
                        throw new IllegalArgumentException("TensorFiles: I64 array " + a.name() + " holds " + v[i] + ", not exact as F64; read it with SafeTensors.read");
                    d[i] = v[i];
                }
                yield Tensor.of(d, shape);
            }
        };
    }
}
