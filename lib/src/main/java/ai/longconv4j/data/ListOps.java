// LRA ListOps: expression trees over digits with MIN, MAX, MED, SM; generator, parser, evaluator, TSV I/O.
// n examples, L padded token length; 10 classes (the value 0..9 of the expression).
package ai.longconv4j.data;

import ai.longconv4j.io.AtomicFiles;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The ListOps task of the Long Range Arena: nested lists of digits under the operators MIN, MAX, MED (median; for an
 * even count the mean of the two middle values rounded down, as {@code int(np.median(...))} does) and SM (sum mod
 * 10). Ten classes: the value of the expression.
 *
 * <p>Text form: {@code [MAX 2 9 [MIN 4 7 ] 0 ]} — an operator token opens ({@code [MAX}), arguments follow, {@code ]}
 * closes; tokens separated by single spaces. The published LRA TSV files additionally wrap each (operator so far,
 * argument) step in parentheses, e.g. {@code ( ( ( [MAX 2 ) 9 ) ] )}; {@link #format(Node, boolean)} writes either
 * form and {@link #parse} accepts both (parentheses carry no meaning). The length of an expression is its token
 * count without parentheses.
 *
 * <p>Generation ({@link Config}): a node below depth {@code maxDepth} is an operator with probability
 * {@code branchProbability}, else a digit; an operator draws its argument count uniformly in
 * {@code [minArgs, maxArgs]} and its operator uniformly; the root is always an operator (a digit root would have
 * length 1). Trees whose length falls outside {@code [minLength, maxLength]} are rejected and redrawn.
 *
 * <pre>{@code
 * jshell> ListOps.evaluate("[MAX 2 9 [MIN 4 7 ] 0 ]")
 * $1 ==> 9
 * jshell> ListOps.format(ListOps.parse("[SM 3 4 ]"), true)
 * $2 ==> "( ( ( [SM 3 ) 4 ) ] )"
 * }</pre>
 */
public final class ListOps {
    private ListOps() {}

    /** Number of classes (values 0..9). */
    public static final int NUM_CLASSES = 10;

    /** The operators with their token text. */
    public enum Op {
        MIN, MAX, MED, SM;

        /** The opening token, e.g. {@code "[MAX"}. */
        public String token() {
            return "[" + name();
        }

        /** Applies the operator to the argument values. */
        public int apply(int[] v) {
            return switch (this) {
                case MIN -> Arrays.stream(v).min().orElseThrow();
                case MAX -> Arrays.stream(v).max().orElseThrow();
                case SM -> Arrays.stream(v).sum() % 10;
                case MED -> {
                    int[] s = v.clone();
                    Arrays.sort(s);
                    int n = s.length;
                    yield n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
                }
            };
        }
    }

    /** An expression tree. */
    public sealed interface Node permits Digit, Apply {}

    /** A leaf digit 0..9. */
    public record Digit(int value) implements Node {
        public Digit {
            if (value < 0 || value > 9) throw new IllegalArgumentException("ListOps.Digit: value " + value + " outside 0..9");
        }
    }

    /** An operator applied to arguments (at least one). */
    public record Apply(Op op, List<Node> args) implements Node {
        public Apply {
            args = List.copyOf(args);
            if (args.isEmpty()) throw new IllegalArgumentException("ListOps.Apply: " + op + " needs at least one argument");
        }
    }

    /** One labelled expression: its text and value. */
    public record Example(String source, int target) {}

    /** Generator settings; {@link #lra()} gives the LRA defaults (lengths 500..2000). */
    public record Config(int maxDepth, int minArgs, int maxArgs, int minLength, int maxLength, double branchProbability) {
        public Config {
            if (maxDepth < 1 || minArgs < 1 || maxArgs < minArgs || minLength < 1 || maxLength < minLength
                    || !(branchProbability > 0 && branchProbability <= 1))
                throw new IllegalArgumentException("ListOps.Config: need maxDepth >= 1, 1 <= minArgs <= maxArgs, 1 <= minLength <= maxLength, 0 < branchProbability <= 1; got "
                        + maxDepth + ", " + minArgs + ", " + maxArgs + ", " + minLength + ", " + maxLength + ", " + branchProbability);
        }

        /** Depth 10, 2..10 arguments, lengths 500..2000, branch probability 0.25. */
        public static Config lra() {
            return new Config(10, 2, 10, 500, 2000, 0.25);
        }

        /** The same settings with another length window. */
        public Config withLength(int min, int max) {
            return new Config(maxDepth, minArgs, maxArgs, min, max, branchProbability);
        }
    }

    // ------------------------------------------------------------------ evaluation and text

    /** Value of a tree (0..9). */
    public static int evaluate(Node n) {
        return switch (n) {
            case Digit d -> d.value();
            case Apply a -> {
                int[] v = new int[a.args().size()];
                for (int i = 0; i < v.length; i++) v[i] = evaluate(a.args().get(i));
                yield a.op().apply(v);
            }
        };
    }

    /** Value of an expression in text form. */
    public static int evaluate(String source) {
        return evaluate(parse(source));
    }

    /** Number of tokens of the text form without parentheses: digits, operator tokens and closing brackets. */
    public static int length(Node n) {
        return switch (n) {
            case Digit _ -> 1;
            case Apply a -> 2 + a.args().stream().mapToInt(ListOps::length).sum();
        };
    }

    /** Maximum nesting depth (a digit has depth 0, an operator over digits depth 1). */
    public static int depth(Node n) {
        return switch (n) {
            case Digit _ -> 0;
            case Apply a -> 1 + a.args().stream().mapToInt(ListOps::depth).max().orElse(0);
        };
    }

    /** Text form; {@code lraParens} adds the parentheses of the published LRA files. */
    public static String format(Node n, boolean lraParens) {
        StringBuilder b = new StringBuilder();
        format(b, n, lraParens);
        return b.toString();
    }

    /** Text form without parentheses. */
    public static String format(Node n) {
        return format(n, false);
    }

    private static void format(StringBuilder b, Node n, boolean parens) {
        if (!b.isEmpty()) b.append(' ');
        switch (n) {
            case Digit d -> b.append(d.value());
            case Apply a -> {
                // LRA nests ((((op, a1), a2), ...), ']') as "( ( [OP a1 ) a2 ) ... ] )": one "(" per argument and one for ']'
                if (parens) b.append("( ".repeat(a.args().size() + 1), 0, 2 * (a.args().size() + 1) - 1).append(' ');
                b.append(a.op().token());
                for (Node c : a.args()) {
                    format(b, c, parens);
                    if (parens) b.append(" )");
                }
                b.append(" ]");
                if (parens) b.append(" )");
            }
        }
    }

    /** Parses the text form (parentheses ignored); malformed text throws IllegalArgumentException naming the token. */
    public static Node parse(String source) {
        String[] tok = Arrays.stream(source.strip().split("\\s+")).filter(t -> !t.equals("(") && !t.equals(")") && !t.isEmpty()).toArray(String[]::new);
        int[] pos = {0};
        Node n = parse(tok, pos, 0, source);
        if (pos[0] != tok.length) throw new IllegalArgumentException("ListOps.parse: extra tokens after the expression at token " + pos[0] + " in: " + abbreviate(source));
        return n;
    }

    private static Node parse(String[] tok, int[] pos, int depth, String src) {
        if (pos[0] >= tok.length) throw new IllegalArgumentException("ListOps.parse: unexpected end of expression: " + abbreviate(src));
        if (depth > 1000) throw new IllegalArgumentException("ListOps.parse: nesting deeper than 1000");
        String t = tok[pos[0]++];
        if (t.length() == 1 && Character.isDigit(t.charAt(0))) return new Digit(t.charAt(0) - '0');
        for (Op op : Op.values()) {
            if (t.equals(op.token())) {
                List<Node> args = new ArrayList<>();
                while (pos[0] < tok.length && !tok[pos[0]].equals("]")) args.add(parse(tok, pos, depth + 1, src));
                if (pos[0] >= tok.length) throw new IllegalArgumentException("ListOps.parse: missing ']' for " + t + ": " + abbreviate(src));
                pos[0]++; // ]
                if (args.isEmpty()) throw new IllegalArgumentException("ListOps.parse: " + t + " without arguments: " + abbreviate(src));
                return new Apply(op, args);
            }
        }
        throw new IllegalArgumentException("ListOps.parse: unexpected token '" + t + "' at " + (pos[0] - 1) + ": " + abbreviate(src));
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    // ------------------------------------------------------------------ generation

    /** One random tree within the config's length window (rejection sampling; see the class comment). */
    public static Node generate(Config c, RandomGenerator rng) {
        for (int attempt = 0; attempt < 1_000_000; attempt++) {
            int[] budget = {c.maxLength()};
            Node n = operator(c, rng, 1, budget);
            if (n != null && length(n) >= c.minLength()) return n;
        }
        throw new IllegalStateException("ListOps.generate: no tree in length window [" + c.minLength() + ", " + c.maxLength() + "] after 10^6 tries; widen it");
    }

    /** {@code count} labelled examples; the same seed gives the same list. */
    public static List<Example> generate(Config c, int count, RandomGenerator rng) {
        List<Example> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Node n = generate(c, rng);
            out.add(new Example(format(n), evaluate(n)));
        }
        return out;
    }

    // budget[0] = tokens still allowed; null when exceeded (tree rejected early)
    private static Node node(Config c, RandomGenerator rng, int depth, int[] budget) {
        if (depth <= c.maxDepth() && rng.nextDouble() < c.branchProbability()) return operator(c, rng, depth, budget);
        if (--budget[0] < 0) return null;
        return new Digit(rng.nextInt(10));
    }

    private static Node operator(Config c, RandomGenerator rng, int depth, int[] budget) {
        budget[0] -= 2;
        if (budget[0] < 0) return null;
        int nArgs = c.minArgs() + rng.nextInt(c.maxArgs() - c.minArgs() + 1);
        Op op = Op.values()[rng.nextInt(4)];
        List<Node> args = new ArrayList<>(nArgs);
        for (int i = 0; i < nArgs; i++) {
            Node a = node(c, rng, depth + 1, budget);
            if (a == null) return null;
            args.add(a);
        }
        return new Apply(op, args);
    }

    // ------------------------------------------------------------------ TSV

    /** Header line of the published TSV files. */
    public static final String TSV_HEADER = "Source\tTarget";

    /** Writes {@code Source\tTarget} then one {@code source\ttarget} line per example, atomically. */
    public static void writeTsv(Path file, List<Example> examples) throws IOException {
        StringBuilder b = new StringBuilder(TSV_HEADER).append('\n');
        for (Example e : examples) {
            if (e.source().indexOf('\t') >= 0 || e.source().indexOf('\n') >= 0)
                throw new IllegalArgumentException("ListOps.writeTsv: source contains a tab or newline: " + abbreviate(e.source()));
            b.append(e.source()).append('\t').append(e.target()).append('\n');
        }
        AtomicFiles.write(file, b.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Reads a TSV with header {@code Source\tTarget}; bad lines throw IllegalArgumentException with the line number. */
    public static List<Example> readTsv(Path file) throws IOException {
        List<Example> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String header = r.readLine();
            if (header == null || !header.strip().equals(TSV_HEADER))
                throw new IllegalArgumentException("ListOps.readTsv " + file + ": first line must be \"Source<TAB>Target\", got " + header);
            int lineNo = 1;
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                if (line.isBlank()) continue;
                int tab = line.lastIndexOf('\t');
                if (tab < 0) throw new IllegalArgumentException("ListOps.readTsv " + file + ":" + lineNo + ": no tab");
                int target;
                try {
                    target = Integer.parseInt(line.substring(tab + 1).strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("ListOps.readTsv " + file + ":" + lineNo + ": target is not an integer: " + line.substring(tab + 1));
                }
                if (target < 0 || target >= NUM_CLASSES)
                    throw new IllegalArgumentException("ListOps.readTsv " + file + ":" + lineNo + ": target " + target + " outside 0..9");
                out.add(new Example(line.substring(0, tab), target));
            }
        }
        return out;
    }
}
