// Word-level tokenizer: whitespace-separated tokens, a frequency-ordered vocabulary, <eos> and <unk> specials.
package ai.longconv4j.data;

import ai.longconv4j.io.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Word-level tokenizer for pre-tokenized text such as WikiText-103: tokens are separated by whitespace.
 * Id 0 is {@value #EOS}, id 1 is {@value #UNK}; then the words by descending count, ties in order of first
 * appearance. Words outside the vocabulary encode to {@value #UNK}. {@link #encode(String)} adds no {@code <eos>};
 * {@link WikiText} adds one per line.
 *
 * <pre>{@code
 * jshell> var t = WordTokenizer.fromTokens(List.of("a", "b", "a"), 1)
 * t ==> WordTokenizer(vocab=4)
 * jshell> t.encode("a b zzz")
 * $2 ==> int[3] { 2, 3, 1 }
 * }</pre>
 */
public final class WordTokenizer implements Tokenizer {
    public static final String EOS = "<eos>";
    public static final String UNK = "<unk>";

    private final List<String> words;
    private final Map<String, Integer> ids = new HashMap<>();

    private WordTokenizer(List<String> words) {
        this.words = List.copyOf(words);
        for (int i = 0; i < this.words.size(); i++)
            if (ids.put(this.words.get(i), i) != null) throw new IllegalArgumentException("WordTokenizer: duplicate word \"" + this.words.get(i) + "\"");
        if (!EOS.equals(this.words.get(0)) || !UNK.equals(this.words.get(1)))
            throw new IllegalArgumentException("WordTokenizer: vocabulary must start with " + EOS + ", " + UNK);
    }

    /** Vocabulary of the tokens occurring at least {@code minCount} times (see the class comment for the order). */
    public static WordTokenizer fromTokens(Iterable<String> tokens, int minCount) {
        Map<String, int[]> counts = new LinkedHashMap<>(); // insertion order = first appearance
        for (String t : tokens) counts.computeIfAbsent(t, k -> new int[1])[0]++;
        List<String> order = new ArrayList<>(counts.keySet());
        order.sort((a, b) -> Integer.compare(counts.get(b)[0], counts.get(a)[0])); // stable: ties keep first appearance
        List<String> words = new ArrayList<>(List.of(EOS, UNK));
        for (String w : order) if (counts.get(w)[0] >= minCount && !w.equals(EOS) && !w.equals(UNK)) words.add(w);
        return new WordTokenizer(words);
    }

    @Override
    public int vocabSize() {
        return words.size();
    }

    /** Word of an id. */
    public String word(int id) {
        return words.get(id);
    }

    /** Id of a word, {@code 1} ({@value #UNK}) if absent. */
    public int id(String word) {
        return ids.getOrDefault(word, 1);
    }

    /** Ids of whitespace-separated tokens. */
    @Override
    public int[] encode(String text) {
        String s = text.strip();
        if (s.isEmpty()) return new int[0];
        String[] parts = s.split("\\s+");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) out[i] = id(parts[i]);
        return out;
    }

    /** Words joined by single spaces. */
    @Override
    public String decode(int[] ids) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= words.size())
                throw new IllegalArgumentException("WordTokenizer.decode: id " + ids[i] + " at " + i + " outside [0, " + words.size() + ")");
            if (i > 0) b.append(' ');
            b.append(words.get(ids[i]));
        }
        return b.toString();
    }

    /** {@code {"type":"word","words":["<eos>","<unk>",...]}}. */
    @Override
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "word");
        m.put("words", words);
        return Json.write(m);
    }

    static WordTokenizer fromJsonMap(Map<String, Object> m) {
        if (!(m.get("words") instanceof List<?> list) || list.size() < 2)
            throw new IllegalArgumentException("WordTokenizer JSON: missing \"words\" list");
        List<String> words = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof String s)) throw new IllegalArgumentException("WordTokenizer JSON: word is not a string: " + o);
            words.add(s);
        }
        return new WordTokenizer(words);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WordTokenizer t && t.words.equals(words);
    }

    @Override
    public int hashCode() {
        return words.hashCode();
    }

    @Override
    public String toString() {
        return "WordTokenizer(vocab=" + words.size() + ")";
    }
}
