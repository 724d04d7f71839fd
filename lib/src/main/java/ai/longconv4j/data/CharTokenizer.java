// Character-level tokenizer: one id per Unicode code point of a vocabulary built from a corpus.
package ai.longconv4j.data;

import ai.longconv4j.io.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Character-level tokenizer over Unicode code points. The vocabulary is the sorted set of distinct code points of a
 * corpus (so for tiny Shakespeare {@code '\n'} is id 0 and {@code ' '} id 1, 65 ids in all). Characters not in the
 * vocabulary follow an {@link Unknown} policy: {@code ERROR} (default) throws, {@code SKIP} drops them,
 * {@code REPLACE} maps them to a reserved id 0 ({@link #UNK_TEXT} when decoded; the corpus characters then start at
 * id 1).
 *
 * <pre>{@code
 * jshell> var t = CharTokenizer.fromCorpus("abcab")
 * t ==> CharTokenizer(vocab=3, unknown=ERROR)
 * jshell> t.encode("cab")
 * $2 ==> int[3] { 2, 0, 1 }
 * jshell> CharTokenizer.fromCorpus("ab", CharTokenizer.Unknown.REPLACE).encode("azb")
 * $3 ==> int[3] { 1, 0, 2 }
 * }</pre>
 */
public final class CharTokenizer implements Tokenizer {
    /** What to do with a character outside the vocabulary. */
    public enum Unknown { ERROR, SKIP, REPLACE }

    /** Text that the reserved unknown id decodes to under {@link Unknown#REPLACE}: U+FFFD. */
    public static final String UNK_TEXT = "\uFFFD";

    private final int[] codePoints; // id -> code point (id 0 is the unknown slot under REPLACE, value -1)
    private final Map<Integer, Integer> ids; // code point -> id
    private final Unknown unknown;

    private CharTokenizer(int[] sortedDistinct, Unknown unknown) {
        this.unknown = unknown;
        int off = unknown == Unknown.REPLACE ? 1 : 0;
        codePoints = new int[sortedDistinct.length + off];
        if (off == 1) codePoints[0] = -1;
        ids = new LinkedHashMap<>();
        for (int i = 0; i < sortedDistinct.length; i++) {
            codePoints[i + off] = sortedDistinct[i];
            ids.put(sortedDistinct[i], i + off);
        }
    }

    /** Vocabulary of the distinct code points of {@code corpus}; unknown characters are an error. */
    public static CharTokenizer fromCorpus(String corpus) {
        return fromCorpus(corpus, Unknown.ERROR);
    }

    /** Vocabulary of the distinct code points of {@code corpus} with the given unknown policy. */
    public static CharTokenizer fromCorpus(String corpus, Unknown unknown) {
        return new CharTokenizer(corpus.codePoints().sorted().distinct().toArray(), unknown);
    }

    /** Vocabulary of exactly these characters (code points of {@code chars}, sorted, duplicates removed). */
    public static CharTokenizer ofChars(String chars, Unknown unknown) {
        return fromCorpus(chars, unknown);
    }

    public Unknown unknown() {
        return unknown;
    }

    @Override
    public int vocabSize() {
        return codePoints.length;
    }

    /** The vocabulary in id order as strings (the unknown slot, if any, as {@link #UNK_TEXT}). */
    public List<String> vocabulary() {
        List<String> out = new ArrayList<>(codePoints.length);
        for (int cp : codePoints) out.add(cp < 0 ? UNK_TEXT : Character.toString(cp));
        return out;
    }

    /** Id of one code point, or -1 if it is not in the vocabulary. */
    public int id(int codePoint) {
        Integer id = ids.get(codePoint);
        return id == null ? -1 : id;
    }

    @Override
    public int[] encode(String text) {
        int[] out = new int[text.length()];
        int n = 0, index = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            Integer id = ids.get(cp);
            if (id != null) out[n++] = id;
            else if (unknown == Unknown.REPLACE) out[n++] = 0;
            else if (unknown == Unknown.ERROR)
                throw new IllegalArgumentException(String.format("CharTokenizer.encode: character U+%04X '%s' at index %d is not in the vocabulary of %d (use Unknown.SKIP or REPLACE)",
                        cp, Character.toString(cp), index, ids.size()));
            i += Character.charCount(cp);
            index++;
        }
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder b = new StringBuilder(ids.length);
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (id < 0 || id >= codePoints.length)
                throw new IllegalArgumentException("CharTokenizer.decode: id " + id + " at " + i + " outside [0, " + codePoints.length + ")");
            int cp = codePoints[id];
            if (cp < 0) b.append(UNK_TEXT);
            else b.appendCodePoint(cp);
        }
        return b.toString();
    }

    /** {@code {"type":"char","unknown":"ERROR","chars":"\n !..."}} — chars are the corpus characters in id order. */
    @Override
    public String toJson() {
        StringBuilder chars = new StringBuilder();
        for (int cp : codePoints) if (cp >= 0) chars.appendCodePoint(cp);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "char");
        m.put("unknown", unknown.name());
        m.put("chars", chars.toString());
        return Json.write(m);
    }

    static CharTokenizer fromJsonMap(Map<String, Object> m) {
        if (!(m.get("chars") instanceof String chars)) throw new IllegalArgumentException("CharTokenizer JSON: missing string \"chars\"");
        if (!(m.get("unknown") instanceof String u)) throw new IllegalArgumentException("CharTokenizer JSON: missing string \"unknown\"");
        int[] cps = chars.codePoints().toArray();
        int[] sorted = chars.codePoints().sorted().distinct().toArray();
        if (!Arrays.equals(cps, sorted)) throw new IllegalArgumentException("CharTokenizer JSON: \"chars\" must be sorted and distinct");
        return new CharTokenizer(sorted, Unknown.valueOf(u));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CharTokenizer t && t.unknown == unknown && Arrays.equals(t.codePoints, codePoints);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(codePoints) * 31 + unknown.hashCode();
    }

    @Override
    public String toString() {
        return "CharTokenizer(vocab=" + vocabSize() + ", unknown=" + unknown + ")";
    }
}
