// Tests for ByteTokenizer and CharTokenizer: round trips, vocab order, unknown policies, JSON save/load.
package ai.longconv4j.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {
    static final String TEXT = "Hello, wörld! ∑ 𝄞 tab\tnl\n\"quote\" \\ end";

    @Test
    void byteTokenizerRoundTripsAndMatchesUtf8() {
        var t = ByteTokenizer.INSTANCE;
        int[] ids = t.encode(TEXT);
        byte[] utf8 = TEXT.getBytes(StandardCharsets.UTF_8);
        assertEquals(utf8.length, ids.length);
        for (int i = 0; i < ids.length; i++) assertEquals(utf8[i] & 0xFF, ids[i]);
        assertEquals(TEXT, t.decode(ids));
        assertArrayEquals(new int[] {195, 169, 33}, t.encode("é!"));
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {256}));
        assertEquals("\uFFFD", t.decode(new int[] {195}), "cut UTF-8 sequence decodes to U+FFFD");
    }

    @Test
    void charTokenizerVocabIsSortedDistinctCodePoints() {
        var t = CharTokenizer.fromCorpus("hello");
        assertEquals(List.of("e", "h", "l", "o"), t.vocabulary());
        assertArrayEquals(new int[] {1, 3, 2, 0}, t.encode("hole"));
        assertEquals("hello", t.decode(new int[] {1, 0, 2, 2, 3}));
        var full = CharTokenizer.fromCorpus(TEXT);
        assertEquals(TEXT, full.decode(full.encode(TEXT)));
        assertEquals(TEXT.codePointCount(0, TEXT.length()), full.encode(TEXT).length, "one id per code point (𝄞 is two chars)");
    }

    @Test
    void unknownPolicies() {
        var err = CharTokenizer.fromCorpus("ab");
        var e = assertThrows(IllegalArgumentException.class, () -> err.encode("abz"));
        assertTrue(e.getMessage().contains("U+007A") && e.getMessage().contains("index 2"), e.getMessage());
        assertArrayEquals(new int[] {0, 1}, CharTokenizer.fromCorpus("ab", CharTokenizer.Unknown.SKIP).encode("azb"));
        var rep = CharTokenizer.fromCorpus("ab", CharTokenizer.Unknown.REPLACE);
        assertEquals(3, rep.vocabSize());
        assertArrayEquals(new int[] {1, 0, 2}, rep.encode("azb"));
        assertEquals("a\uFFFDb", rep.decode(rep.encode("a𝄞b")));
        assertThrows(IllegalArgumentException.class, () -> rep.decode(new int[] {3}));
    }

    @Test
    void jsonAndFileRoundTrip(@TempDir Path dir) throws IOException {
        for (var u : CharTokenizer.Unknown.values()) {
            var t = CharTokenizer.fromCorpus(TEXT, u);
            Tokenizer back = Tokenizer.fromJson(t.toJson());
            assertEquals(t, back);
            assertArrayEquals(t.encode(TEXT), back.encode(TEXT));
            Path f = dir.resolve("tok-" + u + ".json");
            t.save(f);
            assertEquals(t, Tokenizer.load(f));
        }
        assertSame(ByteTokenizer.INSTANCE, Tokenizer.fromJson(ByteTokenizer.INSTANCE.toJson()));
        assertThrows(IllegalArgumentException.class, () -> Tokenizer.fromJson("{\"type\":\"bpe\"}"));
        assertThrows(IllegalArgumentException.class, () -> Tokenizer.fromJson("{\"type\":\"char\",\"unknown\":\"ERROR\",\"chars\":\"ba\"}"));
    }

    @Test
    void tinyShakespeareHas65CharsLikeNanoGpt() throws IOException {
        String text = Files.readString(RealData.tinyShakespeare());
        var t = CharTokenizer.fromCorpus(text);
        assertEquals(65, t.vocabSize());
        assertEquals(0, t.id('\n'));
        assertEquals(1, t.id(' '));
        assertEquals(64, t.id('z'));
        int[] ids = t.encode(text);
        assertEquals(1_115_394, ids.length);
        assertEquals(text, t.decode(ids));
    }
}
