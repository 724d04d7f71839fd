// Reader for the WikiText-103 / WikiText-2 token file layout (wiki.train.tokens, wiki.valid.tokens, wiki.test.tokens).
package ai.longconv4j.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads WikiText token files. Layout of those files: UTF-8 lines; each non-blank line is a paragraph or a heading
 * whose tokens are separated by single spaces (with a leading and a trailing space); out-of-vocabulary words are
 * already replaced by {@code <unk>}; number and hyphen splits appear as {@code @-@ @,@ @.@}; an article starts with
 * a level-1 heading {@code " = Title = "}, sections with {@code " = = Section = = "}; blank lines (a single space)
 * separate them.
 *
 * <p>Token stream convention (as in common language-model pipelines): the whitespace-split tokens of each line
 * followed by {@value WordTokenizer#EOS}; blank lines are skipped when {@code skipBlank} is true, else they
 * contribute a lone {@code <eos>}.
 *
 * <pre>{@code
 * jshell> var train = WikiText.tokens(Path.of("wiki.train.tokens"), true)
 * jshell> var tok = WordTokenizer.fromTokens(train, 1)
 * jshell> var ds = WikiText.dataset(Path.of("wiki.valid.tokens"), tok, true)
 * }</pre>
 */
public final class WikiText {
    private static final Pattern ARTICLE_TITLE = Pattern.compile("^ = (?!= )(.*[^=\\s]) = $");

    private WikiText() {}

    /** All tokens of {@code file} with an {@code <eos>} after each line (see the class comment). */
    public static List<String> tokens(Path file, boolean skipBlank) throws IOException {
        List<String> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line; (line = r.readLine()) != null; ) {
                String s = line.strip();
                if (s.isEmpty() && skipBlank) continue;
                if (!s.isEmpty()) for (String t : s.split("\\s+")) out.add(t);
                out.add(WordTokenizer.EOS);
            }
        }
        return out;
    }

    /** The file's token ids under {@code tokenizer} (unknown words → {@code <unk>}) as a dataset with no val split. */
    public static TextDataset dataset(Path file, WordTokenizer tokenizer, boolean skipBlank) throws IOException {
        List<String> toks = tokens(file, skipBlank);
        int[] ids = new int[toks.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = tokenizer.id(toks.get(i));
        return TextDataset.ofTokens(ids, tokenizer, 1.0);
    }

    /** The title if {@code line} is a level-1 heading {@code " = Title = "}, else null. */
    public static String articleTitle(String line) {
        var m = ARTICLE_TITLE.matcher(line);
        return m.matches() ? m.group(1) : null;
    }

    /** Titles of the articles of {@code file}, in order. */
    public static List<String> articleTitles(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line; (line = r.readLine()) != null; ) {
                String t = articleTitle(line);
                if (t != null) out.add(t);
            }
        }
        return out;
    }
}
