// Tests for the WikiText token-file reader and WordTokenizer on a small file written here in that layout.
package ai.longconv4j.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WikiTextTest {
    // the layout of wiki.*.tokens: leading/trailing spaces, blank " " lines, headings, @-@ splits, <unk>
    static final String FILE = String.join("\n",
            " ",
            " = Alpha Beta = ",
            " ",
            " The alpha is a <unk> of 1 @,@ 000 beta @-@ like things . ",
            " ",
            " = = History = = ",
            " ",
            " The beta came first . The alpha came later . ",
            " ",
            " = Gamma = ",
            " ",
            " Gamma is the third . ",
            "");

    @Test
    void tokensWithEosPerLineAndArticleTitles(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("wiki.train.tokens");
        Files.writeString(f, FILE);
        List<String> t = WikiText.tokens(f, true);
        // independent count: 6 non-blank lines, words counted by hand: 4+14+5+10+3+5 = 41, plus 6 <eos>
        assertEquals(41 + 6, t.size());
        assertEquals(List.of("=", "Alpha", "Beta", "=", "<eos>", "The"), t.subList(0, 6));
        assertEquals("<eos>", t.getLast());
        assertEquals(6, t.stream().filter("<eos>"::equals).count());
        List<String> withBlank = WikiText.tokens(f, false);
        assertEquals(47 + 6, withBlank.size(), "6 blank lines add a lone <eos> each");
        assertEquals(List.of("Alpha Beta", "Gamma"), WikiText.articleTitles(f));
        assertNull(WikiText.articleTitle(" = = History = = "));
    }

    @Test
    void vocabularyOrderAndEncoding(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("wiki.train.tokens");
        Files.writeString(f, FILE);
        var tok = WordTokenizer.fromTokens(WikiText.tokens(f, true), 1);
        assertEquals("<eos>", tok.word(0));
        assertEquals("<unk>", tok.word(1));
        // counts: "=" appears 8 times, "." 4 times, "The" 3, then ties in order of first appearance
        assertEquals("=", tok.word(2));
        assertEquals(".", tok.word(3));
        assertEquals(1, tok.id("<unk>"), "corpus <unk> is the special, not a second entry");
        assertEquals(1, tok.id("never-seen"));
        var ds = WikiText.dataset(f, tok, true);
        assertEquals(47, ds.size());
        assertEquals(ds.size(), ds.size(TextDataset.Split.TRAIN));
        assertEquals("= Alpha Beta = <eos>", tok.decode(java.util.Arrays.copyOf(ds.tokens(TextDataset.Split.TRAIN), 5)));
        assertEquals(tok, Tokenizer.fromJson(tok.toJson()));
        var min2 = WordTokenizer.fromTokens(WikiText.tokens(f, true), 2);
        assertNotEquals(1, min2.id("Gamma"), "Gamma occurs twice, kept");
        assertEquals(1, min2.id("third"), "singleton dropped at minCount 2");
    }
}
