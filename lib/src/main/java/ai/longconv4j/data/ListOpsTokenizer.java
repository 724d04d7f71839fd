// Fixed 18-token vocabulary of ListOps; L padded length for batches.
package ai.longconv4j.data;

import java.util.Arrays;
import java.util.List;

/**
 * Tokenizer of ListOps expressions (whitespace-separated tokens). Ids: 0 = {@value #PAD}, 1..10 = digits 0..9,
 * 11..14 = {@code [MIN [MAX [MED [SM}, 15 = {@code ]}, 16 = {@code (}, 17 = {@code )}. {@link #encode} keeps
 * parentheses if present; {@link #encodePadded} drops them (they carry no meaning) and right-pads with 0.
 *
 * <pre>{@code
 * jshell> ListOpsTokenizer.INSTANCE.encode("[MAX 2 9 ]")
 * $1 ==> int[4] { 12, 3, 10, 15 }
 * }</pre>
 */
public final class ListOpsTokenizer implements Tokenizer {
    public static final ListOpsTokenizer INSTANCE = new ListOpsTokenizer();
    public static final String PAD = "<pad>";
    private static final List<String> VOCAB = List.of(PAD, "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
            "[MIN", "[MAX", "[MED", "[SM", "]", "(", ")");

    private ListOpsTokenizer() {}

    @Override
    public int vocabSize() {
        return VOCAB.size();
    }

    /** The token strings in id order. */
    public List<String> vocabulary() {
        return VOCAB;
    }

    @Override
    public int[] encode(String text) {
        String s = text.strip();
        if (s.isEmpty()) return new int[0];
        String[] parts = s.split("\\s+");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            int id = VOCAB.indexOf(parts[i]);
            if (id <= 0) throw new IllegalArgumentException("ListOpsTokenizer.encode: unknown token '" + parts[i] + "' at " + i);
            out[i] = id;
        }
        return out;
    }

    /** Ids without parentheses, right-padded with 0 to {@code length}; longer expressions are an error. */
    public int[] encodePadded(String text, int length) {
        int[] ids = Arrays.stream(encode(text)).filter(id -> id != 16 && id != 17).toArray();
        if (ids.length > length)
            throw new IllegalArgumentException("ListOpsTokenizer.encodePadded: expression has " + ids.length + " tokens, more than length " + length);
        return Arrays.copyOf(ids, length);
    }

    /** Tokens joined by spaces; padding ids are skipped. */
    @Override
    public String decode(int[] ids) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= VOCAB.size())
                throw new IllegalArgumentException("ListOpsTokenizer.decode: id " + ids[i] + " at " + i + " outside [0, " + VOCAB.size() + ")");
            if (ids[i] == 0) continue;
            if (!b.isEmpty()) b.append(' ');
            b.append(VOCAB.get(ids[i]));
        }
        return b.toString();
    }

    /**
     * Examples as a classification set: inputs (n, L) row-major padded ids, labels (n). L must be at least the
     * longest expression.
     */
    public LabeledSequences encode(List<ListOps.Example> examples, int length) {
        int[] x = new int[examples.size() * length], y = new int[examples.size()];
        for (int i = 0; i < examples.size(); i++) {
            System.arraycopy(encodePadded(examples.get(i).source(), length), 0, x, i * length, length);
            y[i] = examples.get(i).target();
        }
        return new LabeledSequences(examples.size(), length, vocabSize(), ListOps.NUM_CLASSES, x, y);
    }

    @Override
    public String toJson() {
        return "{\"type\":\"listops\"}";
    }

    @Override
    public String toString() {
        return "ListOpsTokenizer(vocab=" + VOCAB.size() + ")";
    }
}
