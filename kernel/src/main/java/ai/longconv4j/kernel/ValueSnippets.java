// Which snippets may be evaluated as `Object v = (EXPR);` (two javac tasks fewer than JShell's expression path). No shapes.
package ai.longconv4j.kernel;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * For an expression snippet such as {@code x * 2} or {@code t.sum(1, false)}, JShell runs two javac
 * analyses only to name the type of its {@code $N} variable (the expression's type, then the type of
 * {@code $N}'s initializer), then compiles the wrapper: five javac tasks in all, about 40 % of such a cell's
 * CPU at steady state (kernel/BENCHMARKS.md). Evaluated as the declaration {@code Object V = (EXPR\n);},
 * whose type is given, the same value costs three tasks. This class decides, from the tokens alone,
 * which snippets to try that way ({@link #expression}); whatever JShell then rejects (a void call, a
 * lambda without a target, an unknown name, something that was not an expression after all) the
 * engine evaluates again as written, so the guess costs time when wrong, never a different result.
 * Method names seen to be void are remembered ({@link #markVoid}) so that {@code println(..)} and
 * the like go straight to JShell's own path.
 * <pre>
 * jshell&gt; new ValueSnippets().expression("x * 2;")
 * $1 ==&gt; "x * 2"
 * jshell&gt; new ValueSnippets().expression("var x = 3;")
 * $2 ==&gt; null
 * </pre>
 */
final class ValueSnippets {
    /** First words of snippets that are declarations or statements (or a switch statement: JShell shows no value for it). */
    private static final Set<String> NOT_EXPRESSION = Set.of(
            "import", "package", "module", "class", "interface", "enum", "record", "sealed", "non", "abstract",
            "public", "private", "protected", "static", "final", "strictfp", "transient", "volatile", "native",
            "synchronized", "default", "var", "void", "boolean", "byte", "short", "char", "int", "long", "float",
            "double", "if", "else", "for", "while", "do", "try", "catch", "finally", "return", "throw", "break",
            "continue", "assert", "yield", "switch", "case", "goto", "const");
    /** Java keywords (and literals) that are never the first word of a declaration's type or name. */
    static final Set<String> KEYWORDS = Set.of(
            "new", "this", "super", "true", "false", "null", "instanceof", "abstract", "assert", "boolean", "break",
            "byte", "case", "catch", "char", "class", "const", "continue", "default", "do", "double", "else", "enum",
            "extends", "final", "finally", "float", "for", "goto", "if", "implements", "import", "int", "interface",
            "long", "native", "package", "private", "protected", "public", "return", "short", "static", "strictfp",
            "switch", "synchronized", "throw", "throws", "transient", "try", "void", "volatile", "while");
    /** Operators of more than one character, longest first. */
    private static final List<String> OPERATORS = List.of(">>>=", "<<=", ">>=", "...", "->", "::", "==", "<=", ">=", "!=",
            "&&", "||", "++", "--", "+=", "-=", "*=", "/=", "&=", "|=", "^=", "%=");

    /** Method names whose calls turned out void (seeded with the common ones). */
    private final Set<String> voidMethods = new HashSet<>(Set.of("println", "print", "forEach"));

    /**
     * The expression of {@code src} (one snippet as {@code analyzeCompletion} gives it, trailing {@code ;}
     * removed) when its tokens look like an expression that may have a value; null for declarations,
     * statements, lambdas, method references, calls of methods known to be void and anonymous class bodies.
     */
    String expression(String src) {
        String s = src.strip();
        if (s.endsWith(";")) s = s.substring(0, s.length() - 1).strip();
        List<String> tokens = tokens(s);
        if (tokens == null || tokens.isEmpty()) return null;
        if (NOT_EXPRESSION.contains(tokens.getFirst()) || tokens.getFirst().equals("@")) return null;
        int depth = 0;
        var opened = new ArrayDeque<Integer>();   // token index of each open bracket
        String lastCall = null;
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            switch (t) {
                case "(", "[", "{" -> {
                    opened.push(i);
                    depth++;
                    continue;
                }
                case ")", "]", "}" -> {
                    if (opened.isEmpty()) return null;
                    int open = opened.pop();
                    depth--;
                    lastCall = t.equals(")") && depth == 0 && open > 0 && isName(tokens.get(open - 1)) ? tokens.get(open - 1) : null;
                }
                default -> {
                    if (depth == 0) lastCall = null;
                }
            }
            if (depth > 0) continue;
            if (t.equals("->") || t.equals("::") || t.equals(";")) return null;
            if (i + 1 < tokens.size() && isName(tokens.get(i + 1))
                    && (isName(t) || t.equals(">") || t.equals("]"))) return null;   // Type name: a declaration
        }
        if (depth != 0) return null;
        if (lastCall != null && voidMethods.contains(lastCall)) return null;
        if (declaresAnonymousClass(s)) return null;
        return s;
    }

    /**
     * Whether {@code expr} has an anonymous class body ({@code new T(...) { ... }}). JShell turns those into
     * named member classes of its wrapper (a value's {@code getClass().getSimpleName()} is then not empty, and a
     * variable's type keeps their members), so such expressions take JShell's path as written (wrapped as a declaration of type
     * {@code Object}, or compiled by {@link DirectExpressions}, the class would stay anonymous).
     */
    static boolean declaresAnonymousClass(String expr) {
        List<String> t = tokens(expr);
        if (t == null) return true;
        for (int i = 0; i < t.size(); i++) {
            if (!t.get(i).equals("new")) continue;
            int depth = 0;
            for (int j = i + 1; j < t.size(); j++) {
                String s = t.get(j);
                if (s.equals("(")) depth++;
                else if (s.equals(")") && --depth == 0) {
                    if (j + 1 < t.size() && t.get(j + 1).equals("{")) return true;
                    break;
                } else if (depth == 0 && (s.equals("[") || s.equals("{"))) break;   // an array: new T[n] or new T[]{...}
            }
        }
        return false;
    }

    /** Remembers that the call ending {@code expression} (as {@link #expression} returned it) was void. */
    void markVoid(String expression) {
        String name = lastCallName(expression);
        if (name != null) voidMethods.add(name);
    }

    /** The method name of a trailing call {@code ...name(...)}, or null. */
    static String lastCallName(String expression) {
        List<String> tokens = tokens(expression);
        if (tokens == null || tokens.isEmpty() || !tokens.getLast().equals(")")) return null;
        int depth = 0;
        for (int i = tokens.size() - 1; i >= 0; i--) {
            String t = tokens.get(i);
            if (t.equals(")")) depth++;
            else if (t.equals("(") && --depth == 0) return i > 0 && isName(tokens.get(i - 1)) ? tokens.get(i - 1) : null;
        }
        return null;
    }

    private static boolean isName(String t) {
        return !t.isEmpty() && Character.isJavaIdentifierStart(t.charAt(0)) && !KEYWORDS.contains(t);
    }

    /**
     * Java tokens of {@code s} without comments; literals become {@code "0"} (numbers) or {@code "\"\""}
     * (strings, text blocks, chars). Null when a comment or literal is not closed.
     */
    static List<String> tokens(String s) {
        var out = new ArrayList<String>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (s.startsWith("//", i)) {
                int e = s.indexOf('\n', i);
                i = e < 0 ? n : e + 1;
            } else if (s.startsWith("/*", i)) {
                int e = s.indexOf("*/", i + 2);
                if (e < 0) return null;
                i = e + 2;
            } else if (s.startsWith("\"\"\"", i)) {
                int e = i + 3;
                while (e < n && !s.startsWith("\"\"\"", e)) e += s.charAt(e) == '\\' ? 2 : 1;
                if (e >= n) return null;
                out.add("\"\"");
                i = e + 3;
            } else if (c == '"' || c == '\'') {
                int e = i + 1;
                while (e < n && s.charAt(e) != c && s.charAt(e) != '\n') e += s.charAt(e) == '\\' ? 2 : 1;
                if (e >= n || s.charAt(e) != c) return null;
                out.add("\"\"");
                i = e + 1;
            } else if (Character.isJavaIdentifierStart(c)) {
                int e = i + 1;
                while (e < n && Character.isJavaIdentifierPart(s.charAt(e))) e++;
                out.add(s.substring(i, e));
                i = e;
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(s.charAt(i + 1)))) {
                int e = i + 1;   // digits, letters (hex, suffixes, exponents), '_', '.', and a sign after an exponent
                boolean hex = s.regionMatches(true, i, "0x", 0, 2);
                while (e < n) {
                    char d = s.charAt(e);
                    char p = s.charAt(e - 1);
                    boolean sign = (d == '+' || d == '-') && (hex ? p == 'p' || p == 'P' : p == 'e' || p == 'E');
                    if (Character.isLetterOrDigit(d) || d == '_' || d == '.' || sign) e++;
                    else break;
                }
                out.add("0");
                i = e;
            } else {
                String op = String.valueOf(c);
                for (String o : OPERATORS) {
                    if (s.startsWith(o, i)) {
                        op = o;
                        break;
                    }
                }
                out.add(op);
                i += op.length();
            }
        }
        return out;
    }
}
