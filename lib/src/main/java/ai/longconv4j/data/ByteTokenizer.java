// UTF-8 bytes as tokens: vocab 256, id = unsigned byte value.
package ai.longconv4j.data;

import java.nio.charset.StandardCharsets;

/**
 * Byte-level tokenizer: the ids are the UTF-8 bytes of the text as unsigned values (vocab 256). Every string is
 * encodable; decoding replaces malformed UTF-8 (e.g. a sequence cut in the middle of a character) with U+FFFD.
 *
 * <pre>{@code
 * jshell> ByteTokenizer.INSTANCE.encode("é!")
 * $1 ==> int[3] { 195, 169, 33 }
 * }</pre>
 */
public final class ByteTokenizer implements Tokenizer {
    /** The only instance (the tokenizer has no state). */
    public static final ByteTokenizer INSTANCE = new ByteTokenizer();

    private ByteTokenizer() {}

    @Override
    public int vocabSize() {
        return 256;
    }

    @Override
    public int[] encode(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xFF;
        return ids;
    }

    /** Ids of raw bytes (no decoding), e.g. of a file read with Files.readAllBytes. */
    public int[] encode(byte[] bytes) {
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) ids[i] = bytes[i] & 0xFF;
        return ids;
    }

    @Override
    public String decode(int[] ids) {
        byte[] b = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] > 255) throw new IllegalArgumentException("ByteTokenizer.decode: id " + ids[i] + " at " + i + " outside [0, 256)");
            b[i] = (byte) ids[i];
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    @Override
    public String toJson() {
        return "{\"type\":\"byte\"}";
    }

    @Override
    public String toString() {
        return "ByteTokenizer(vocab=256)";
    }
}
