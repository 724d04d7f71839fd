// Shapes: ids (B, L) -> (B, L, D); weight (V, D). B batch, L length, V vocabulary, D width.
package ai.longconv4j.nn;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Tensor;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Lookup table: row {@code ids[i]} of {@code weight (V, D)} for every id. The weight is initialized
 * from a standard normal and, like other weights, decays by default.
 *
 * <pre>{@code
 * jshell> var emb = new Embedding(256, 16, DType.F32, Rng.seeded(1))
 * jshell> emb.forward(new int[] {1, 2, 3, 4, 5, 6}, 2, 3).shape()
 * $2 ==> int[3] { 2, 3, 16 }
 * }</pre>
 */
public final class Embedding extends Module {
    private final int vocab;
    private final int width;
    private final Parameter weight;

    /**
     * @param vocab number of rows V
     * @param width row width D
     * @param dtype parameter dtype
     * @param rng   generator of the N(0, 1) initialization
     */
    public Embedding(int vocab, int width, DType dtype, RandomGenerator rng) {
        if (vocab <= 0 || width <= 0) {
            throw new IllegalArgumentException("Embedding: vocab and width must be positive, got vocab=" + vocab
                    + ", width=" + width);
        }
        Objects.requireNonNull(rng, "rng");
        this.vocab = vocab;
        this.width = width;
        this.weight = param(Parameter.of("weight", Tensor.randn(rng, dtype, vocab, width)));
    }

    /** Weight {@code (V, D)}. */
    public Parameter weight() {
        return weight;
    }

    /**
     * Looks up {@code ids} laid out row-major with shape {@code idShape}.
     *
     * @return {@code (idShape..., D)}
     * @throws IllegalArgumentException when an id is outside {@code [0, V)} or the shape does not match
     */
    public Tensor forward(int[] ids, int... idShape) {
        long n = 1;
        for (int s : idShape) {
            n *= s;
        }
        if (n != ids.length) {
            throw new IllegalArgumentException("Embedding.forward: " + ids.length + " ids do not fill shape "
                    + java.util.Arrays.toString(idShape));
        }
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("Embedding.forward: id " + id + " outside [0, " + vocab + ")");
            }
        }
        return Tensor.embedding(weight.value(), ids, idShape);
    }

    /** Looks up ids stored as (integral) values of a tensor of any shape. */
    @Override
    public Tensor forward(Tensor ids) {
        double[] v = ids.toDoubleArray();
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (int) v[i];
            if (out[i] != v[i]) {
                throw new IllegalArgumentException("Embedding.forward: ids must be integers, got " + v[i]);
            }
        }
        return forward(out, ids.shape());
    }

    @Override
    protected String describe() {
        return "Embedding(" + vocab + ", " + width + ")";
    }
}
