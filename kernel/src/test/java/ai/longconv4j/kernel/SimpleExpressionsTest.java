// Expressions evaluated without javac (SimpleExpressions) against the same expressions compiled. No tensor shapes here.
package ai.longconv4j.kernel;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class SimpleExpressionsTest {
    /** Variables of every type the subset reads, at awkward values, and two it reads only as a bare name. */
    static final List<String> DECLARATIONS = List.of(
            "int i = -7;", "int big = Integer.MAX_VALUE;", "int small = Integer.MIN_VALUE;", "long l = Long.MIN_VALUE;",
            "long l2 = 1L << 40;", "float f = 1.1f;", "float fn = Float.NaN;", "double d = -0.0;", "double dmax = Double.MAX_VALUE;",
            "double dn = Double.NaN;", "char c = 'x';", "char cmax = (char) 65535;", "byte b = (byte) -128;", "short s = (short) 32767;",
            "boolean z = true;", "String str = \"s\\t1\";", "String nul = null;", "Integer boxed = 300;",
            "var list = new ArrayList<>(List.of(1, 2));", "int[] arr = {4, 5};");

    /** Cells whose outcome both ways must agree; those in {@link #TAKEN} must be evaluated without javac. */
    static final List<String> CELLS = List.of(
            "1+1", "1 + 2 + \"a\"", "\"a\" + 1 + 2", "'a' + 1", "(char) ('a' + 1)", "'a' + 'b'", "\"\" + 'a' + 'b'", "(byte) 200",
            "(short) -32769", "(char) -1", "(int) (char) -1", "(int) 1e10", "(long) 1e30", "(int) (0.0 / 0.0)", "(long) -1e300",
            "(byte) 1e10", "(char) 65.7", "(float) 1e40", "(float) 16777217", "(float) 9007199254740993L", "(double) 9007199254740993L",
            "0x7fffffff + 1", "0xFFFFFFFF", "037777777777", "0b1010_1010", "1__000_000", "0x8000_0000_0000_0000L", "1 << 33", "1L << 65",
            "-1 >>> 28", "-1L >>> 60", "-16 >> 2", "(byte) -16 >>> 28", "'a' << 1", "1 << 'a'", "5 % -3", "-5 % 3", "5.5 % 2", "-5.5 % 2",
            "0.1 + 0.2", "0.1f + 0.2f", "1e308 * 10", "1.0 / 0", "-1.0 / 0", "0.0 == -0.0", "1f / 3", "1 / 3 * 3.0", "1 / 3.0 * 3",
            ".5", "5.", "5.f", "1e-45f", "4.9e-324", "3.4028235e38f", "1.7976931348623157e308", "2e3d", "0f", "00", "07L",
            "true ^ false", "true & false | true", "5 & 3", "5 | 3 ^ 6", "~7", "~7L", "!true", "!!false", "-(-2147483647 - 1)",
            "+'a'", "-'a'", "~'a'", "1 < 2 == true", "2 > 1 != 2 < 1", "1 <= 1.0", "'a' == 97", "1.0f == 1.0", "0.1f == 0.1",
            "(1 + 2) * 3", "1 + 2 * 3", "10 - 2 - 3", "100 / 10 / 5", "2 * (3 + (4 - 1)) % 5", "1 - -1", "1+-1", "- - 1",
            "true || false && false", "(true || false) && false", "false && true", "\"tab\\there\" + '\\n' + \"\\s\\\"\\\\\"",
            "'\\377' + 0", "'\\0' + 0", "'\\7' + \"\"", "\"\\1234\"", "'\\''", "\"\\101\\60\"",
            "i", "i * 2 + 1", "big + 1", "small - 1", "-small", "l - 1", "l2 >> 3", "f * 2", "f + 0.1", "fn != fn", "fn == fn",
            "d", "1 / d", "d == 0.0", "dmax * 2", "dn < 1", "c", "c + 1", "(char) (c + 1)", "cmax + 1", "b", "b - 1", "(byte) (b - 1)",
            "s + 1", "(short) (s + 1)", "z", "!z", "z && i < 0", "str", "str + i", "i + str", "str + nul", "nul + 1", "nul",
            "list", "arr", "(i)", "((i))", "(i) + 1", "(i) - 1", "boxed", "'\\s'", "\"\"");

    /** Cells of {@link #CELLS} that must be evaluated without javac. */
    static final List<String> TAKEN = List.of("1+1", "(char) ('a' + 1)", "0xFFFFFFFF", "1L << 65", "0.1f + 0.2f", "'\\377' + 0",
            "i * 2 + 1", "str + nul", "nul", "list", "arr", "(i) - 1", "fn != fn", "(float) 9007199254740993L", "boxed");

    /** Cells javac must decide (outside the subset, or an error there): they must agree too, and never be taken. */
    static final List<String> DECLINED = List.of(
            "1 / 0", "5L % 0", "i / (i - i)", "2147483648", "-2147483648", "9223372036854775808L", "-9223372036854775808L",
            "0x1_0000_0000", "1e-50f", "1e400", "3.5e38f", "09", "0_7", "1_", "0x", "1e", "1..2", "0x1p3", "1 + true", "\"a\" == \"a\"",
            "str == str", "1 < 2 < 3", "true + 1", "!1", "~1.5", "-true", "(boolean) 1", "(int) true", "(int) str", "boxed + 1",
            "list + 1", "(String) str", "(i) i", "(i)(i)", "i++", "1--1", "i = 3", "i += 1", "z ? 1 : 2", "str instanceof String",
            "Math.max(1, 2)", "str.length()", "arr[0]", "arr.length", "undefinedName", "undefinedName + 1", "null", "1 // note",
            "1 /* note */ + 1", "'\\u0041'", "\"\"\"\n  block\"\"\"", "''", "'ab'", "\"unterminated", "1 +", "()", "(1", "1)",
            "new int[0]", "this", "_", "int", "(int)", "var", "record");

    /** Each cell's outcome with the value's class, as the kernel would show it. */
    static List<String> run(Engine e, List<String> cells) {
        var out = new ArrayList<String>();
        for (String c : cells) {
            var warnings = new StringBuilder();
            Engine.Eval r = e.eval(c, 1, warnings::append);
            String v = r.error() != null ? "error " + r.error().traceback()
                    : !r.hasValue() ? "none" : r.value() == null ? "value null"
                    : "value " + r.value().getClass().getName() + " " + java.util.Arrays.deepToString(new Object[]{r.value()});   // arrays by content
            out.add(c + " -> " + v + (warnings.isEmpty() ? "" : " warn " + warnings));
        }
        out.replaceAll(l -> l.replaceAll("snippet #(\\d+|expr)", "snippet #N"));
        return out;
    }

    /** Which of {@code cells} the subset takes, one at a time, in an engine after {@link #DECLARATIONS}. */
    static List<String> taken(Engine e, List<String> cells) {
        var out = new ArrayList<String>();
        for (String c : cells) {
            int before = e.simpleExpressions()[1];
            e.eval(c, 1, w -> { });
            if (e.simpleExpressions()[1] > before) out.add(c);
        }
        return out;
    }

    @Test
    void fixedCellsGiveWhatJavacGives() {
        List<String> fast, slow, declinedFast, declinedSlow, takenCells, takenDeclined;
        try (var e = new Engine(true, true, true, true)) {
            run(e, DECLARATIONS);
            fast = run(e, CELLS);
            declinedFast = run(e, DECLINED);
            takenCells = taken(e, CELLS);
            takenDeclined = taken(e, DECLINED);
        }
        try (var e = new Engine(true, true, true, false)) {
            assertNull(e.simpleExpressions(), "the slow twin has no javac-free path");
            run(e, DECLARATIONS);
            slow = run(e, CELLS);
            declinedSlow = run(e, DECLINED);
        }
        for (int k = 0; k < CELLS.size(); k++) assertEquals(slow.get(k), fast.get(k));
        for (int k = 0; k < DECLINED.size(); k++) assertEquals(declinedSlow.get(k), declinedFast.get(k));
        assertTrue(takenCells.containsAll(TAKEN), () -> "not taken: " + TAKEN.stream().filter(t -> !takenCells.contains(t)).toList());
        assertEquals(List.of(), takenDeclined, "outside the subset, or an error javac must report");
        // spot checks against values worked out by hand (JLS), so that the two paths cannot agree on a wrong answer
        assertTrue(fast.contains("(char) ('a' + 1) -> value java.lang.Character [b]"), fast::toString);
        assertTrue(fast.contains("(byte) 200 -> value java.lang.Byte [-56]"), fast::toString);
        assertTrue(fast.contains("1L << 65 -> value java.lang.Long [2]"), fast::toString);
        assertTrue(fast.contains("-5 % 3 -> value java.lang.Integer [-2]"), fast::toString);
        assertTrue(fast.contains("1 + 2 + \"a\" -> value java.lang.String [3a]"), fast::toString);
        assertTrue(fast.contains("0.1f + 0.2f -> value java.lang.Float [0.3]"), fast::toString);
        assertTrue(fast.contains("(float) 9007199254740993L -> value java.lang.Float [9.007199E15]"), fast::toString);
        assertTrue(declinedFast.stream().anyMatch(l -> l.startsWith("1 / 0 -> error") && l.contains("/ by zero")), declinedFast::toString);
    }

    @Test
    void constantStringsAreInternedAsJavacMakesThem() {
        try (var e = new Engine(true, true, true, true)) {
            Object a = e.eval("\"ab\" + 1", 1, w -> { }).value();
            assertSame("ab1", a, "a constant expression of type String is interned (JLS 15.29)");
            e.eval("String t = \"ab\";", 1, w -> { });
            Object b = e.eval("t + 1", 1, w -> { }).value();
            assertEquals("ab1", b);
            assertNotSame("ab1", b, "not a constant expression: a new string, as the compiled expression makes");
            assertEquals(2, e.simpleExpressions()[1]);
        }
    }

    @Test
    void variablesAreReadAtEvaluationAndRedeclarationsSeen() {
        try (var e = new Engine(true, true, true, true)) {
            e.eval("int n = 4;", 1, w -> { });
            assertEquals(8, e.eval("n * 2", 1, w -> { }).value());
            e.eval("n = 5;", 1, w -> { });   // an assignment: javac's path (not in the subset), it changes the field
            assertEquals(10, e.eval("n * 2", 1, w -> { }).value());
            e.eval("double n = 0.5;", 1, w -> { });   // a redeclaration with another type
            assertEquals(1.0, e.eval("n * 2", 1, w -> { }).value());
            e.eval("import static java.lang.Math.PI;", 1, w -> { });
            e.eval("double PI = 3;", 1, w -> { });   // the same name as a static import: javac decides what it means
            int before = e.simpleExpressions()[1];
            Engine.Eval r = e.eval("PI", 1, w -> { });
            assertEquals(before, e.simpleExpressions()[1], "a name with a static import of the same name goes to javac");
            Engine.Eval slow;
            try (var s = new Engine(true, true, true, false)) {
                s.eval("import static java.lang.Math.PI;", 1, w -> { });
                s.eval("double PI = 3;", 1, w -> { });
                slow = s.eval("PI", 1, w -> { });
            }
            assertEquals(String.valueOf(slow.value()), String.valueOf(r.value()));
            assertEquals(slow.error() == null, r.error() == null);
        }
    }

    @Test
    void randomExpressionsGiveWhatJavacGives() {
        long seed = System.nanoTime();
        var rnd = new Random(seed);
        var cells = new ArrayList<String>();
        for (int k = 0; k < 500; k++) cells.add(expression(rnd, 1 + rnd.nextInt(4)));
        List<String> fast, slow;
        int[] counts;
        try (var e = new Engine(true, true, true, true)) {
            run(e, DECLARATIONS);
            fast = run(e, cells);
            counts = e.simpleExpressions();
        }
        try (var e = new Engine(true, true, true, false)) {
            run(e, DECLARATIONS);
            slow = run(e, cells);
        }
        for (int k = 0; k < cells.size(); k++) assertEquals(slow.get(k), fast.get(k), "seed " + seed);
        // the generator is biased to well-typed expressions: most must have been taken, or this test compares nothing
        assertTrue(counts[1] >= cells.size() / 3, "taken without javac: " + counts[1] + " of " + cells.size() + " (seed " + seed + ")");
    }

    private static final String[] VARS = {"i", "big", "small", "l", "l2", "f", "fn", "d", "dmax", "dn", "c", "cmax", "b", "s", "z",
            "str", "nul", "boxed"};
    private static final String[] LITERALS = {"0", "1", "7", "-1", "2147483647", "0x7fffffff", "0x80000000", "0xFFFFFFFF", "037",
            "0b1011", "1_000", "3L", "9223372036854775807L", "0xFFFFFFFFFFFFFFFFL", "0.5", "1e10", "1e-3", ".25", "3.", "1e308", "4.9e-324",
            "2.5f", "1e38f", "1.4e-45f", "0.1f", "'a'", "'\\n'", "'\\377'", "'0'", "\"s\"", "\"\"", "\"\\t\"", "true", "false"};
    private static final String[] UNARY = {"-", "+", "~", "!"};
    private static final String[] BINARY = {"+", "-", "*", "/", "%", "<<", ">>", ">>>", "<", ">", "<=", ">=", "==", "!=", "&", "^", "|",
            "&&", "||"};
    private static final String[] CASTS = {"byte", "short", "char", "int", "long", "float", "double", "boolean"};

    /** A random expression over the subset's pieces (and some type errors), depth at most {@code depth}. */
    static String expression(Random r, int depth) {
        if (depth == 0 || r.nextInt(5) == 0) {
            return r.nextInt(3) == 0 ? VARS[r.nextInt(VARS.length)] : LITERALS[r.nextInt(LITERALS.length)];
        }
        return switch (r.nextInt(6)) {
            case 0 -> UNARY[r.nextInt(UNARY.length)] + expression(r, depth - 1);
            case 1 -> "(" + CASTS[r.nextInt(CASTS.length)] + ") " + expression(r, depth - 1);
            case 2 -> "(" + expression(r, depth - 1) + ")";
            default -> {
                String sp = r.nextInt(4) == 0 ? "" : " ";
                yield expression(r, depth - 1) + sp + BINARY[r.nextInt(BINARY.length)] + sp + expression(r, depth - 1);
            }
        };
    }
}
