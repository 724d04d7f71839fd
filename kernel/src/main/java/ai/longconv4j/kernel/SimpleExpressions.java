// Expression cells of literals, operators, casts and variable names, evaluated without javac. No tensor shapes.
package ai.longconv4j.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The fast path for the simplest expression cells: a variable's name ({@code t}, {@code table}), and arithmetic,
 * comparisons and logic over literals and variables of primitive or {@code String} type ({@code 1 + 1},
 * {@code n * 2 + 1}, {@code lr * 0.5f}, {@code "loss " + loss}, {@code (int) (x / 3.0) == 2}). Each one would
 * otherwise cost a javac task, a class definition and an invocation — 2 ms of CPU once javac is JIT-compiled and
 * 5–10 ms in a kernel's first few hundred cells (kernel/BENCHMARKS.md); the protocol round trip around it costs
 * about 4 ms, as ipykernel's does. Here the expression is parsed, typed by the rules of the Java Language
 * Specification (JLS 15: binary and unary numeric promotion, string conversion, shift distances, narrowing casts)
 * and evaluated with Java's own operators on values of those types, so results and their boxed classes are the
 * ones the compiled expression gives.
 * <p>
 * Anything outside that subset — a method call, a field access, {@code ?:}, {@code instanceof}, {@code ==} on
 * references, an assignment or increment, a comment, a Unicode escape, a literal javac would reject (out of
 * range, too small), a type error, a name that is not a valid variable, a variable of another type inside an
 * operator — makes {@link #eval} return null before anything runs, and so does an evaluation that throws
 * ({@code 1 / 0}): nothing in the subset has a side effect, so the engine then compiles the same expression
 * with javac, whose value or error (and message) the user sees. {@code -Dlongconv4j.simpleExpressions=false}
 * turns the path off (the slow twin); {@code SimpleExpressionsTest} compares the two on fixed cells and on
 * random expressions.
 * <pre>
 * var s = new SimpleExpressions(name -&gt; null);
 * s.eval("(char) ('a' + 1)")   // a Result holding Character 'b'
 * s.eval("Math.max(1, 2)")     // null: a method call, for javac
 * </pre>
 */
final class SimpleExpressions {
    /** What a name stands for: a valid variable's declared type (its field's type in JShell's wrapper class) and its value. */
    record Variable(Class<?> type, Object value) { }

    /** A value this path computed (possibly null: a variable holding null). */
    record Result(Object value) { }

    /** The static types the subset knows; REF is any other type, allowed only as a whole expression (a bare name). */
    enum T { BOOLEAN, BYTE, SHORT, CHAR, INT, LONG, FLOAT, DOUBLE, STRING, REF;
        boolean numeric() {
            return this != BOOLEAN && this != STRING && this != REF;
        }

        boolean integral() {
            return numeric() && this != FLOAT && this != DOUBLE;
        }
    }

    private static final Map<String, T> PRIMITIVES = Map.of("boolean", T.BOOLEAN, "byte", T.BYTE, "short", T.SHORT,
            "char", T.CHAR, "int", T.INT, "long", T.LONG, "float", T.FLOAT, "double", T.DOUBLE);
    private static final Map<Class<?>, T> VARIABLE_TYPES = Map.of(boolean.class, T.BOOLEAN, byte.class, T.BYTE, short.class, T.SHORT,
            char.class, T.CHAR, int.class, T.INT, long.class, T.LONG, float.class, T.FLOAT, double.class, T.DOUBLE, String.class, T.STRING);
    /** The class of a value of each type as this path holds it (a primitive's box). */
    private static final Map<T, Class<?>> BOXES = Map.of(T.BOOLEAN, Boolean.class, T.BYTE, Byte.class, T.SHORT, Short.class,
            T.CHAR, Character.class, T.INT, Integer.class, T.LONG, Long.class, T.FLOAT, Float.class, T.DOUBLE, Double.class,
            T.STRING, String.class);
    /** Multi-character operators, longest first (maximal munch, as Java's lexer): the rejected ones included, so that {@code 1--1} is not read as {@code 1 - -1}. */
    private static final List<String> OPERATORS = List.of(">>>=", "<<=", ">>=", ">>>", "...", "->", "::", "<<", ">>",
            "==", "<=", ">=", "!=", "&&", "||", "++", "--", "+=", "-=", "*=", "/=", "&=", "|=", "^=", "%=");
    private static final String ACCEPTED = "( ) + - * / % ~ ! << >> >>> < > <= >= == != & ^ | && ||";
    private static final java.util.Set<String> ACCEPTED_OPS = java.util.Set.of(ACCEPTED.split(" "));

    /** Thrown while lexing or typing: the expression is not in the subset (javac decides what it is). */
    private static final class Decline extends Exception {
        Decline() {
            super(null, null, false, false);
        }
    }

    private static final Decline DECLINE = new Decline();

    private final Function<String, Variable> variables;
    private int tried, hits;

    /** {@code variables} gives a name's valid variable, or null (then the expression is not taken here). */
    SimpleExpressions(Function<String, Variable> variables) {
        this.variables = variables;
    }

    /** {expressions tried, evaluated here}; for tests. */
    int[] counts() {
        return new int[]{tried, hits};
    }

    /** The value of {@code expr}, or null when it is not in the subset or its evaluation threw (nothing ran). */
    Result eval(String expr) {
        tried++;
        try {
            var p = new Parser(lex(expr));
            Node n = p.expression();
            if (p.i != p.tokens.size()) return null;
            if (n.type == T.REF && !(n instanceof Name)) return null;
            Object v = n.eval();
            if (v instanceof String s && n.constant) v = s.intern();   // a constant String expression is interned (JLS 15.29)
            hits++;
            return new Result(v);
        } catch (Decline | ArithmeticException | StackOverflowError e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- lexer

    /** A token: kind 'n' number, 'c' char, 's' string, 'b' boolean, 'i' identifier, 'k' primitive type keyword, 'o' operator. */
    private record Tok(char kind, String text, T type, Object value) { }

    private static List<Tok> lex(String s) throws Decline {
        if (s.contains("\\u") || s.contains("//") || s.contains("/*") || s.length() > 2000) throw DECLINE;
        var out = new ArrayList<Tok>();
        int i = 0, n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
                i++;
            } else if (Character.isJavaIdentifierStart(c)) {
                int j = i + 1;
                while (j < n && Character.isJavaIdentifierPart(s.charAt(j))) j++;
                String w = s.substring(i, j);
                if (w.equals("true") || w.equals("false")) out.add(new Tok('b', w, T.BOOLEAN, Boolean.valueOf(w)));
                else if (PRIMITIVES.containsKey(w)) out.add(new Tok('k', w, PRIMITIVES.get(w), null));
                else if (ValueSnippets.KEYWORDS.contains(w) || w.equals("_") || w.equals("null")) throw DECLINE;
                else out.add(new Tok('i', w, null, null));
                i = j;
            } else if (c >= '0' && c <= '9' || c == '.' && i + 1 < n && Character.isDigit(s.charAt(i + 1))) {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_' || s.charAt(j) == '.'
                        || (s.charAt(j) == '+' || s.charAt(j) == '-') && (s.charAt(j - 1) == 'e' || s.charAt(j - 1) == 'E')
                        && !s.substring(i, j).startsWith("0x") && !s.substring(i, j).startsWith("0X"))) {
                    j++;
                }
                out.add(number(s.substring(i, j)));
                i = j;
            } else if (c == '\'' || c == '"') {
                if (s.startsWith("\"\"\"", i)) throw DECLINE;   // a text block
                var sb = new StringBuilder();
                int j = i + 1;
                while (true) {
                    if (j >= n) throw DECLINE;
                    char d = s.charAt(j);
                    if (d == c) break;
                    if (d == '\n' || d == '\r') throw DECLINE;
                    if (d == '\\') {
                        if (j + 1 >= n) throw DECLINE;
                        char e = s.charAt(j + 1);
                        int k = switch (e) {
                            case 'b' -> '\b';
                            case 't' -> '\t';
                            case 'n' -> '\n';
                            case 'f' -> '\f';
                            case 'r' -> '\r';
                            case 's' -> ' ';
                            case '"' -> '"';
                            case '\'' -> '\'';
                            case '\\' -> '\\';
                            default -> -1;
                        };
                        if (k >= 0) {
                            sb.append((char) k);
                            j += 2;
                        } else if (e >= '0' && e <= '7') {   // octal escape: \7, \77, \377 (three digits only from a leading 0-3)
                            int len = 1, max = e <= '3' ? 3 : 2;
                            while (len < max && j + 1 + len < n && s.charAt(j + 1 + len) >= '0' && s.charAt(j + 1 + len) <= '7') len++;
                            sb.append((char) Integer.parseInt(s.substring(j + 1, j + 1 + len), 8));
                            j += 1 + len;
                        } else {
                            throw DECLINE;
                        }
                    } else {
                        sb.append(d);
                        j++;
                    }
                }
                if (c == '\'') {
                    if (sb.length() != 1) throw DECLINE;   // '' or a supplementary character: javac's error
                    out.add(new Tok('c', null, T.CHAR, sb.charAt(0)));
                } else {
                    out.add(new Tok('s', null, T.STRING, sb.toString()));
                }
                i = j + 1;
            } else {
                String op = null;
                for (String o : OPERATORS) if (s.startsWith(o, i)) { op = o; break; }
                if (op == null) op = String.valueOf(c);
                if (!ACCEPTED_OPS.contains(op)) throw DECLINE;
                out.add(new Tok('o', op, null, null));
                i += op.length();
            }
        }
        return out;
    }

    private static final java.util.regex.Pattern DIGITS = java.util.regex.Pattern.compile("[0-9](?:[0-9_]*[0-9])?");
    private static final java.util.regex.Pattern FLOATING = java.util.regex.Pattern.compile(
            "(?:D\\.D?|\\.D|D)(?:[eE][+-]?D)?[fFdD]?".replace("D", "[0-9](?:[0-9_]*[0-9])?"));

    /** A numeric literal (JLS 3.10.1–2), or a decline for anything javac would reject or that is not plainly decimal, hex, octal or binary. */
    private static Tok number(String lit) throws Decline {
        String t = lit;
        boolean isLong = t.endsWith("l") || t.endsWith("L");
        boolean hexOrBin = t.length() > 1 && t.charAt(0) == '0' && "xXbB".indexOf(t.charAt(1)) >= 0;
        if (!hexOrBin && (t.contains(".") || t.contains("e") || t.contains("E") || t.matches(".*[fFdD]"))) {
            if (!FLOATING.matcher(t).matches()) throw DECLINE;
            boolean isFloat = t.endsWith("f") || t.endsWith("F");
            String body = t.replace("_", "");
            if (t.matches(".*[fFdD]")) body = body.substring(0, body.length() - 1);
            boolean nonzero = body.replaceAll("[eE].*", "").chars().anyMatch(ch -> ch >= '1' && ch <= '9');
            if (isFloat) {
                float f = Float.parseFloat(body);
                if (Float.isInfinite(f) || f == 0 && nonzero) throw DECLINE;   // javac: too large / too small
                return new Tok('n', lit, T.FLOAT, f);
            }
            double d = Double.parseDouble(body);
            if (Double.isInfinite(d) || d == 0 && nonzero) throw DECLINE;
            return new Tok('n', lit, T.DOUBLE, d);
        }
        if (isLong) t = t.substring(0, t.length() - 1);
        int radix = 10;
        String digits = t;
        if (hexOrBin) {
            radix = "xX".indexOf(t.charAt(1)) >= 0 ? 16 : 2;
            digits = t.substring(2);
            String d = radix == 16 ? "[0-9a-fA-F]" : "[01]";
            if (!digits.matches(d + "(?:(?:" + d + "|_)*" + d + ")?")) throw DECLINE;
        } else if (t.length() > 1 && t.charAt(0) == '0') {
            radix = 8;
            digits = t.substring(1);
            if (!digits.matches("[0-7]+")) throw DECLINE;   // 0_7 and the like are legal Java, but rare: javac takes them
        } else if (!DIGITS.matcher(t).matches()) {
            throw DECLINE;
        }
        digits = digits.replace("_", "");
        java.math.BigInteger v = new java.math.BigInteger(digits.isEmpty() ? "0" : digits, radix);
        int bits = isLong ? 64 : 32;
        // decimal: at most MAX_VALUE (the literal 2^31 / 2^63 is only legal after a unary minus: javac takes that);
        // hex, octal and binary: any bit pattern that fits
        java.math.BigInteger limit = radix == 10 ? java.math.BigInteger.ONE.shiftLeft(bits - 1) : java.math.BigInteger.ONE.shiftLeft(bits);
        if (v.compareTo(limit) >= 0) throw DECLINE;
        return isLong ? new Tok('n', lit, T.LONG, v.longValue()) : new Tok('n', lit, T.INT, v.intValue());
    }

    // ---------------------------------------------------------------- parser and typing

    private final class Parser {
        final List<Tok> tokens;
        int i;

        Parser(List<Tok> tokens) {
            this.tokens = tokens;
        }

        boolean at(String op) {
            return i < tokens.size() && tokens.get(i).kind == 'o' && tokens.get(i).text.equals(op);
        }

        Node expression() throws Decline {
            return binary(0);
        }

        /** Precedence levels, lowest first (JLS 15.7–15.24). */
        private static final List<List<String>> LEVELS = List.of(List.of("||"), List.of("&&"), List.of("|"), List.of("^"),
                List.of("&"), List.of("==", "!="), List.of("<", ">", "<=", ">="), List.of("<<", ">>", ">>>"),
                List.of("+", "-"), List.of("*", "/", "%"));

        Node binary(int level) throws Decline {
            if (level == LEVELS.size()) return unary();
            Node left = binary(level + 1);
            while (true) {
                String op = null;
                for (String o : LEVELS.get(level)) if (at(o)) op = o;
                if (op == null) return left;
                i++;
                left = Binary.of(op, left, binary(level + 1));
            }
        }

        Node unary() throws Decline {
            if (i >= tokens.size()) throw DECLINE;
            Tok t = tokens.get(i);
            if (t.kind == 'o' && (t.text.equals("+") || t.text.equals("-") || t.text.equals("~") || t.text.equals("!"))) {
                i++;
                return Unary.of(t.text, unary());
            }
            if (t.kind == 'o' && t.text.equals("(")) {
                if (i + 2 < tokens.size() && tokens.get(i + 1).kind == 'k' && tokens.get(i + 2).kind == 'o' && tokens.get(i + 2).text.equals(")")) {
                    T to = tokens.get(i + 1).type;
                    i += 3;
                    return Cast.of(to, unary());
                }
                i++;
                Node inner = expression();
                if (!at(")")) throw DECLINE;
                i++;
                // "(name) x" would be a cast to a reference type: not in the subset
                if (i < tokens.size() && inner instanceof Name && "ibcsn".indexOf(tokens.get(i).kind) >= 0) throw DECLINE;
                return inner;
            }
            i++;
            return switch (t.kind) {
                case 'n', 'c', 's', 'b' -> new Literal(t.type, t.value);
                case 'i' -> {
                    Variable v = variables.apply(t.text);
                    if (v == null) throw DECLINE;
                    T type = VARIABLE_TYPES.getOrDefault(v.type(), T.REF);
                    yield new Name(type, v.value());
                }
                default -> throw DECLINE;
            };
        }
    }

    /** A typed expression node; {@code constant}: built from literals only (JLS 15.29). */
    private abstract static class Node {
        final T type;
        final boolean constant;

        Node(T type, boolean constant) {
            this.type = type;
            this.constant = constant;
        }

        /** The value, boxed as its static type is (Integer for INT, Character for CHAR ...). */
        abstract Object eval();
    }

    private static final class Literal extends Node {
        private final Object value;

        Literal(T type, Object value) {
            super(type, true);
            this.value = value;
        }

        @Override
        Object eval() {
            return value;
        }
    }

    private static final class Name extends Node {
        private final Object value;

        Name(T type, Object value) throws Decline {
            super(type, false);
            // a primitive variable's value is its box; anything else would mean the type was not what JShell said
            if (type != T.REF && (type != T.STRING || value != null) && !BOXES.get(type).isInstance(value)) throw DECLINE;
            this.value = value;
        }

        @Override
        Object eval() {
            return value;
        }
    }

    /** Unary numeric promotion (JLS 5.6): byte, short, char to int. */
    private static T promote(T t) {
        return t == T.BYTE || t == T.SHORT || t == T.CHAR ? T.INT : t;
    }

    /** Binary numeric promotion (JLS 5.6). */
    private static T promote(T a, T b) {
        if (a == T.DOUBLE || b == T.DOUBLE) return T.DOUBLE;
        if (a == T.FLOAT || b == T.FLOAT) return T.FLOAT;
        if (a == T.LONG || b == T.LONG) return T.LONG;
        return T.INT;
    }

    private static long asLong(Object v) {
        return v instanceof Character c ? c : ((Number) v).longValue();
    }

    private static double asDouble(Object v) {
        return v instanceof Character c ? c : ((Number) v).doubleValue();
    }

    /** {@code v} (a boxed value of a numeric type) converted to {@code to} as a Java cast does (JLS 5.1.2–5.1.4). */
    private static Object convert(Object v, T to) {
        if (v instanceof Float || v instanceof Double) {
            double d = ((Number) v).doubleValue();   // float to double is exact, so casts from it give the float's results
            return switch (to) {
                case BYTE -> (byte) d;
                case SHORT -> (short) d;
                case CHAR -> (char) d;
                case INT -> (int) d;
                case LONG -> (long) d;
                case FLOAT -> (float) d;
                case DOUBLE -> d;
                default -> throw new IllegalArgumentException(to.toString());
            };
        }
        long l = asLong(v);
        return switch (to) {
            case BYTE -> (byte) l;
            case SHORT -> (short) l;
            case CHAR -> (char) l;
            case INT -> (int) l;
            case LONG -> l;
            case FLOAT -> (float) l;   // int and long to float: both round the same exact integer to nearest
            case DOUBLE -> (double) l;
            default -> throw new IllegalArgumentException(to.toString());
        };
    }

    private static final class Cast extends Node {
        private final Node operand;

        private Cast(T to, Node operand) {
            super(to, operand.constant);
            this.operand = operand;
        }

        static Node of(T to, Node operand) throws Decline {
            boolean ok = to == T.BOOLEAN ? operand.type == T.BOOLEAN : operand.type.numeric();
            if (!ok) throw DECLINE;
            return new Cast(to, operand);
        }

        @Override
        Object eval() {
            Object v = operand.eval();
            return type == T.BOOLEAN ? v : convert(v, type);
        }
    }

    private static final class Unary extends Node {
        private final String op;
        private final Node operand;

        private Unary(T type, String op, Node operand) {
            super(type, operand.constant);
            this.op = op;
            this.operand = operand;
        }

        static Node of(String op, Node a) throws Decline {
            T t = switch (op) {
                case "!" -> a.type == T.BOOLEAN ? T.BOOLEAN : null;
                case "~" -> a.type.integral() ? promote(a.type) : null;
                default -> a.type.numeric() ? promote(a.type) : null;
            };
            if (t == null) throw DECLINE;
            return new Unary(t, op, a);
        }

        @Override
        Object eval() {
            Object v = operand.eval();
            if (op.equals("!")) return !(Boolean) v;
            Object p = convert(v, type);
            return switch (type) {
                case INT -> op.equals("-") ? -(Integer) p : op.equals("~") ? ~(Integer) p : p;
                case LONG -> op.equals("-") ? -(Long) p : op.equals("~") ? ~(Long) p : p;
                case FLOAT -> op.equals("-") ? -(Float) p : p;
                case DOUBLE -> op.equals("-") ? -(Double) p : p;
                default -> throw new IllegalStateException(type.toString());
            };
        }
    }

    private static final class Binary extends Node {
        private final String op;
        private final Node left, right;
        /** The type both operands are converted to (numeric operators), or null. */
        private final T operands;

        private Binary(T type, T operands, String op, Node left, Node right) {
            super(type, left.constant && right.constant);
            this.op = op;
            this.left = left;
            this.right = right;
            this.operands = operands;
        }

        static Node of(String op, Node a, Node b) throws Decline {
            T x = a.type, y = b.type;
            if (x == T.REF || y == T.REF) throw DECLINE;
            switch (op) {
                case "+" -> {
                    if (x == T.STRING || y == T.STRING) return new Binary(T.STRING, null, op, a, b);
                    if (x.numeric() && y.numeric()) return new Binary(promote(x, y), promote(x, y), op, a, b);
                }
                case "-", "*", "/", "%" -> {
                    if (x.numeric() && y.numeric()) return new Binary(promote(x, y), promote(x, y), op, a, b);
                }
                case "<<", ">>", ">>>" -> {
                    if (x.integral() && y.integral()) return new Binary(promote(x), promote(x), op, a, b);
                }
                case "<", ">", "<=", ">=" -> {
                    if (x.numeric() && y.numeric()) return new Binary(T.BOOLEAN, promote(x, y), op, a, b);
                }
                case "==", "!=" -> {   // on references (String) it is identity: not in the subset
                    if (x.numeric() && y.numeric()) return new Binary(T.BOOLEAN, promote(x, y), op, a, b);
                    if (x == T.BOOLEAN && y == T.BOOLEAN) return new Binary(T.BOOLEAN, null, op, a, b);
                }
                case "&", "^", "|" -> {
                    if (x == T.BOOLEAN && y == T.BOOLEAN) return new Binary(T.BOOLEAN, null, op, a, b);
                    if (x.integral() && y.integral()) return new Binary(promote(x, y), promote(x, y), op, a, b);
                }
                case "&&", "||" -> {
                    if (x == T.BOOLEAN && y == T.BOOLEAN) return new Binary(T.BOOLEAN, null, op, a, b);
                }
                default -> { }
            }
            throw DECLINE;
        }

        @Override
        Object eval() {
            if (op.equals("&&")) return (Boolean) left.eval() && (Boolean) right.eval();
            if (op.equals("||")) return (Boolean) left.eval() || (Boolean) right.eval();
            Object a = left.eval(), b = right.eval();
            if (type == T.STRING) return String.valueOf(a) + b;   // string conversion of either side (JLS 5.1.11)
            if (operands == null) {   // boolean operands
                boolean p = (Boolean) a, q = (Boolean) b;
                return switch (op) {
                    case "==" -> p == q;
                    case "!=" -> p != q;
                    case "&" -> p & q;
                    case "^" -> p ^ q;
                    case "|" -> p | q;
                    default -> throw new IllegalStateException(op);
                };
            }
            if (op.equals("<<") || op.equals(">>") || op.equals(">>>")) {   // each operand promoted alone; the distance masked (JLS 15.19)
                long d = asLong(b);
                if (operands == T.INT) {
                    int v = (Integer) convert(a, T.INT);
                    return op.equals("<<") ? v << d : op.equals(">>") ? v >> d : v >>> d;
                }
                long v = asLong(a);
                return op.equals("<<") ? v << d : op.equals(">>") ? v >> d : v >>> d;
            }
            return switch (operands) {
                case INT, LONG -> {
                    // computed in long: an int result is the low 32 bits, which + - * & ^ | give as int arithmetic
                    // does; / and % of int values are exact in long (MIN_VALUE / -1 too, whose low bits are MIN_VALUE)
                    long p = asLong(a), q = asLong(b);
                    Object r = switch (op) {
                        case "+" -> p + q;
                        case "-" -> p - q;
                        case "*" -> p * q;
                        case "/" -> p / q;
                        case "%" -> p % q;
                        case "&" -> p & q;
                        case "^" -> p ^ q;
                        case "|" -> p | q;
                        default -> compare(op, Long.compare(p, q), p == q);
                    };
                    yield r instanceof Long v && operands == T.INT ? (Object) (int) (long) v : r;
                }
                case FLOAT, DOUBLE -> {
                    // operands converted to their promoted type first (a long to float rounds), then exactly to double.
                    // A float result is the double result rounded to float: for + - * / that is the correctly rounded
                    // float result (double rounding is harmless when 53 >= 2 * 24 + 2 bits), and % is exact in both
                    double p = ((Number) convert(a, operands)).doubleValue(), q = ((Number) convert(b, operands)).doubleValue();
                    Object r = switch (op) {
                        case "+" -> p + q;
                        case "-" -> p - q;
                        case "*" -> p * q;
                        case "/" -> p / q;
                        case "%" -> p % q;
                        case "<" -> p < q;
                        case ">" -> p > q;
                        case "<=" -> p <= q;
                        case ">=" -> p >= q;
                        case "==" -> p == q;
                        case "!=" -> p != q;
                        default -> throw new IllegalStateException(op);
                    };
                    yield r instanceof Double d && operands == T.FLOAT ? (Object) (float) (double) d : r;
                }
                default -> throw new IllegalStateException(operands.toString());
            };
        }

        /** Relational and equality operators on integral operands (no NaN: compare is exact). */
        private static boolean compare(String op, int cmp, boolean eq) {
            return switch (op) {
                case "<" -> cmp < 0;
                case ">" -> cmp > 0;
                case "<=" -> cmp <= 0;
                case ">=" -> cmp >= 0;
                case "==" -> eq;
                case "!=" -> !eq;
                default -> throw new IllegalStateException(op);
            };
        }
    }
}
