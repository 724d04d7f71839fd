// Text <-> token ids. Ids are in [0, vocabSize()).
package ai.longconv4j.data;

import ai.longconv4j.io.AtomicFiles;
import ai.longconv4j.io.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Maps text to token ids in {@code [0, vocabSize())} and back. A tokenizer serializes to a small JSON document
 * ({@link #toJson()}) so it can be stored with a model, e.g. in a safetensors file's metadata, and read back with
 * {@link #fromJson(String)}.
 *
 * <pre>{@code
 * jshell> Tokenizer t = CharTokenizer.fromCorpus("hello")
 * jshell> t.encode("hole")
 * $2 ==> int[4] { 1, 3, 2, 0 }
 * jshell> Tokenizer.fromJson(t.toJson()).decode(new int[]{1, 0, 2, 2, 3})
 * $3 ==> "hello"
 * }</pre>
 */
public sealed interface Tokenizer permits ByteTokenizer, CharTokenizer, WordTokenizer, ListOpsTokenizer {
    /** Number of distinct ids. */
    int vocabSize();

    /** Token ids of {@code text}. */
    int[] encode(String text);

    /** Text of {@code ids}; an id outside {@code [0, vocabSize())} is an IllegalArgumentException. */
    String decode(int[] ids);

    /** JSON form with a {@code "type"} field ("byte", "char", "word" or "listops"). */
    String toJson();

    /** Reads a tokenizer written by {@link #toJson()}. */
    static Tokenizer fromJson(String json) {
        Map<String, Object> m = Json.parseObject(json);
        Object type = m.get("type");
        if ("byte".equals(type)) return ByteTokenizer.INSTANCE;
        if ("char".equals(type)) return CharTokenizer.fromJsonMap(m);
        if ("word".equals(type)) return WordTokenizer.fromJsonMap(m);
        if ("listops".equals(type)) return ListOpsTokenizer.INSTANCE;
        throw new IllegalArgumentException("Tokenizer.fromJson: unknown type " + type + " (expected \"byte\", \"char\", \"word\" or \"listops\")");
    }

    /** Writes {@link #toJson()} to {@code file} atomically (UTF-8). */
    default void save(Path file) throws IOException {
        AtomicFiles.write(file, toJson().getBytes(StandardCharsets.UTF_8));
    }

    /** Reads a tokenizer saved with {@link #save(Path)}. */
    static Tokenizer load(Path file) throws IOException {
        return fromJson(Files.readString(file, StandardCharsets.UTF_8));
    }
}
