// A tiny JSON reader/writer for small documents: safetensors headers, tokenizer vocabularies.
// (No tensor shapes here; values map to Java as below.)
package ai.longconv4j.io;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Minimal JSON (RFC 8259) parser and writer.
 *
 * <p>Mapping: object → {@code LinkedHashMap<String,Object>} (key order kept, duplicate keys rejected),
 * array → {@code ArrayList<Object>}, string → {@link String}, integer number → {@link Long} (falls back to
 * {@link Double} when it does not fit), other numbers → {@link Double}, {@code true/false} → {@link Boolean},
 * {@code null} → {@code null}. Malformed input throws {@link IllegalArgumentException} with the character offset.
 *
 * <pre>{@code
 * jshell> Json.parse("{\"a\": [1, 2.5, \"x\"]}")
 * $1 ==> {a=[1, 2.5, x]}
 * jshell> Json.write(Map.of("k", List.of(1, 2)))
 * $2 ==> "{\"k\":[1,2]}"
 * }</pre>
 */
public final class Json {
    /** Nesting limit, so a hostile header cannot overflow the stack. */
    public static final int MAX_DEPTH = 64;

    private final String s;
    private int pos;

    private Json(String s) {
        this.s = s;
    }

    /** Parses one JSON value; trailing non-whitespace is an error. */
    public static Object parse(String text) {
        Json p = new Json(text);
        p.skipWs();
        Object v = p.value(0);
        p.skipWs();
        if (p.pos != text.length()) throw p.error("trailing characters after JSON value");
        return v;
    }

    /** Parses a JSON object; anything else is an error. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof Map)) throw new IllegalArgumentException("JSON: expected an object at top level, got " + typeName(v));
        return (Map<String, Object>) v;
    }

    /** Name of the JSON type of a parsed value, for error messages. */
    public static String typeName(Object v) {
        return switch (v) {
            case null -> "null";
            case Map<?, ?> _ -> "object";
            case List<?> _ -> "array";
            case String _ -> "string";
            case Boolean _ -> "boolean";
            case Number _ -> "number";
            default -> v.getClass().getSimpleName();
        };
    }

    private IllegalArgumentException error(String msg) {
        return new IllegalArgumentException("JSON: " + msg + " at offset " + pos);
    }

    private void skipWs() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') pos++;
            else break;
        }
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
        if (pos >= s.length()) throw error("unexpected end of input");
        char c = s.charAt(pos);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) yield number();
                throw error("unexpected character '" + c + "'");
            }
        };
    }

    private Object literal(String word, Object v) {
        if (!s.startsWith(word, pos)) throw error("invalid literal");
        pos += word.length();
        return v;
    }

    private Map<String, Object> object(int depth) {
        Map<String, Object> m = new LinkedHashMap<>();
        pos++; // {
        skipWs();
        if (pos < s.length() && s.charAt(pos) == '}') {
            pos++;
            return m;
        }
        while (true) {
            skipWs();
            if (pos >= s.length() || s.charAt(pos) != '"') throw error("expected a string key");
            String key = string();
            skipWs();
            expect(':');
            skipWs();
            Object v = value(depth + 1);
            if (m.containsKey(key)) throw error("duplicate key \"" + key + "\"");
            m.put(key, v);
            skipWs();
            if (pos >= s.length()) throw error("unterminated object");
            char c = s.charAt(pos++);
            if (c == '}') return m;
            if (c != ',') throw error("expected ',' or '}' in object");
        }
    }

    private List<Object> array(int depth) {
        List<Object> a = new ArrayList<>();
        pos++; // [
        skipWs();
        if (pos < s.length() && s.charAt(pos) == ']') {
            pos++;
            return a;
        }
        while (true) {
            skipWs();
            a.add(value(depth + 1));
            skipWs();
            if (pos >= s.length()) throw error("unterminated array");
            char c = s.charAt(pos++);
            if (c == ']') return a;
            if (c != ',') throw error("expected ',' or ']' in array");
        }
    }

    private void expect(char c) {
        if (pos >= s.length() || s.charAt(pos) != c) throw error("expected '" + c + "'");
        pos++;
    }

    private String string() {
        pos++; // opening quote
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos >= s.length()) throw error("unterminated string");
            char c = s.charAt(pos++);
            if (c == '"') return b.toString();
            if (c < 0x20) throw error("control character in string");
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (pos >= s.length()) throw error("unterminated escape");
            char e = s.charAt(pos++);
            switch (e) {
                case '"' -> b.append('"');
                case '\\' -> b.append('\\');
                case '/' -> b.append('/');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (pos + 4 > s.length()) throw error("short \\u escape");
                    int cp = 0;
                    for (int i = 0; i < 4; i++) {
                        int d = Character.digit(s.charAt(pos++), 16);
                        if (d < 0) throw error("bad hex digit in \\u escape");
                        cp = cp * 16 + d;
                    }
                    b.append((char) cp);
                }
                default -> throw error("bad escape '\\" + e + "'");
            }
        }
    }

    private Object number() {
        int start = pos;
        if (s.charAt(pos) == '-') pos++;
        int intStart = pos;
        while (pos < s.length() && Character.isDigit(s.charAt(pos))) pos++;
        if (pos == intStart) throw error("digit expected");
        if (s.charAt(intStart) == '0' && pos - intStart > 1) throw error("leading zero in number");
        boolean integral = true;
        if (pos < s.length() && s.charAt(pos) == '.') {
            integral = false;
            pos++;
            int f = pos;
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) pos++;
            if (pos == f) throw error("digit expected after '.'");
        }
        if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
            integral = false;
            pos++;
            if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) pos++;
            int e = pos;
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) pos++;
            if (pos == e) throw error("digit expected in exponent");
        }
        String t = s.substring(start, pos);
        if (integral) {
            try {
                return Long.parseLong(t);
            } catch (NumberFormatException overflow) {
                return Double.parseDouble(t);
            }
        }
        return Double.parseDouble(t);
    }

    /**
     * Writes a value compactly (no spaces). Accepts Map (String keys), Iterable, String, Number, Boolean, null,
     * int[]/long[]; a non-finite double is an error (JSON has no NaN).
     */
    public static String write(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value);
        return b.toString();
    }

    /** Appends the JSON form of {@code value} to {@code b}; see {@link #write(Object)}. */
    public static void write(StringBuilder b, Object value) {
        switch (value) {
            case null -> b.append("null");
            case String str -> quote(b, str);
            case Boolean bool -> b.append(bool);
            case Double d -> number(b, d);
            case Float f -> number(b, f);
            case Number n -> b.append(n.longValue());
            case int[] ints -> {
                b.append('[');
                for (int i = 0; i < ints.length; i++) b.append(i == 0 ? "" : ",").append(ints[i]);
                b.append(']');
            }
            case long[] longs -> {
                b.append('[');
                for (int i = 0; i < longs.length; i++) b.append(i == 0 ? "" : ",").append(longs[i]);
                b.append(']');
            }
            case Map<?, ?> m -> {
                b.append('{');
                Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
                while (it.hasNext()) {
                    var e = it.next();
                    if (!(e.getKey() instanceof String k)) throw new IllegalArgumentException("JSON: object key is not a String: " + e.getKey());
                    quote(b, k);
                    b.append(':');
                    write(b, e.getValue());
                    if (it.hasNext()) b.append(',');
                }
                b.append('}');
            }
            case Iterable<?> it -> {
                b.append('[');
                boolean first = true;
                for (Object o : it) {
                    if (!first) b.append(',');
                    first = false;
                    write(b, o);
                }
                b.append(']');
            }
            default -> throw new IllegalArgumentException("JSON: cannot write " + value.getClass().getName());
        }
    }

    private static void number(StringBuilder b, double d) {
        if (!Double.isFinite(d)) throw new IllegalArgumentException("JSON: cannot write non-finite number " + d);
        if (d == Math.rint(d) && Math.abs(d) < 1e15) b.append((long) d).append(".0");
        else b.append(d);
    }

    /** Appends {@code str} as a JSON string literal (escapes quote, backslash and control characters). */
    public static void quote(StringBuilder b, String str) {
        b.append('"');
        for (int i = 0; i < str.length(); i++) {
            char c = str.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        b.append('"');
    }
}
