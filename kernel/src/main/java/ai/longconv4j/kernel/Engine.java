// The JShell behind a kernel: runs cells, keeps the last value live, completes and inspects code. No shapes.
package ai.longconv4j.kernel;

import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.ExpressionSnippet;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.SourceCodeAnalysis.Completeness;
import jdk.jshell.UnresolvedReferenceException;
import jdk.jshell.VarSnippet;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.jar.JarFile;

/**
 * One JShell with in-process execution ({@link InProcessControl}) and the library preloaded.
 * Cells are split into snippets with {@link SourceCodeAnalysis#analyzeCompletion}; each snippet is
 * evaluated in order; the first failure stops the cell. The value of the last snippet, when it is an
 * expression, is returned as a live object. An expression is evaluated as the declaration
 * {@code Object $lc4jValueN = (EXPR);} where {@link ValueSnippets} finds that possible (two javac tasks
 * fewer than JShell's expression path), else as written; either variable ({@code $lc4jValueN} or JShell's
 * {@code $N}) is dropped once read (each kept declaration slows every later compile).
 * <pre>
 * jshell&gt; var e = new Engine(); e.value("1 + 1").value()
 * $2 ==&gt; 2
 * </pre>
 * Not thread-safe: one cell at a time; {@link #interrupt()} may be called from any thread.
 */
public final class Engine implements AutoCloseable {
    /** Outcome of evaluating Java code: the live last value (if any) or an error. */
    public record Eval(boolean hasValue, Object value, CellResult.Error error) {
        static Eval none() {
            return new Eval(false, null, null);
        }
    }

    private final JShell shell;
    private final SourceCodeAnalysis sca;
    private final DeferredIndex index;
    private final InProcessControl.Provider provider;
    private final List<String> imports;
    private final List<String> addedClassPath = new ArrayList<>();
    private final ReplClasses replClasses;
    private final boolean pruneClassFiles;
    /** Null: every snippet goes through JShell's own path (the slow twin, for tests). */
    private final ValueSnippets valueSnippets;
    /** Null: expressions go through JShell (its value path, then as written): the slow twin of {@link DirectExpressions}. */
    private final DirectExpressions direct;
    /**
     * Off sends every expression to javac ({@link DirectExpressions} or JShell): the slow twin of {@link SimpleExpressions},
     * for engines made without saying ({@code -Dlongconv4j.simpleExpressions=false} turns it off).
     */
    static final boolean simpleExpressionsOn = !"false".equals(System.getProperty("longconv4j.simpleExpressions"));
    /** Null: no expression is evaluated without javac. */
    private final SimpleExpressions simple;
    /** The snippet the last {@link #evalSnippet} evaluated. */
    private Snippet lastSnippet;
    /** The value declaration being evaluated ({@link #evalValue}), null otherwise. */
    private VarSnippet valueSnippet;
    private volatile boolean interrupted;
    private volatile boolean running;

    /** A JShell with the library's class path and {@link Imports#startup()} evaluated. */
    public Engine() {
        this(true);
    }

    /** With {@code pruneClassFiles} false, JShell keeps every class file it compiled (the slow twin, for tests). */
    Engine(boolean pruneClassFiles) {
        this(pruneClassFiles, true);
    }

    /**
     * With {@code valueDeclarations} false, expressions go through JShell's expression path (two javac
     * analyses more per expression; the slow twin of {@link ValueSnippets}, for tests).
     */
    Engine(boolean pruneClassFiles, boolean valueDeclarations) {
        this(pruneClassFiles, valueDeclarations, valueDeclarations);
    }

    /**
     * With {@code directExpressions} false, expressions that look like values are evaluated by JShell as
     * {@code Object $lc4jValueN = (EXPR);} (three javac tasks) instead of {@link DirectExpressions} (one); for tests.
     */
    Engine(boolean pruneClassFiles, boolean valueDeclarations, boolean directExpressions) {
        this(pruneClassFiles, valueDeclarations, directExpressions, simpleExpressionsOn);
    }

    /** With {@code simpleExpressions} false, no expression is evaluated without javac (the slow twin of {@link SimpleExpressions}; tests). */
    Engine(boolean pruneClassFiles, boolean valueDeclarations, boolean directExpressions, boolean simpleExpressions) {
        valueSnippets = valueDeclarations ? new ValueSnippets() : null;
        provider = new InProcessControl.Provider(Engine.class.getClassLoader());
        shell = JShell.builder().executionEngine(provider, null)
                .compilerOptions("-Xlint:none", "-proc:none").build();
        // the whole class path in one call: JShell re-reads its class path option and restarts its
        // class-path index on every call (one per entry made 60 re-reads and index passes)
        List<String> cp = classPath();
        if (!cp.isEmpty()) shell.addToClasspath(String.join(File.pathSeparator, cp));
        sca = shell.sourceCodeAnalysis();   // after the class path: it starts indexing it at once ...
        index = new DeferredIndex(sca);     // ... unless held back until idle or a completion (DeferredIndex)
        replClasses = new ReplClasses(shell);
        this.pruneClassFiles = pruneClassFiles;
        if (pruneClassFiles && replClasses.unavailable() != null) {
            Log.info("not pruning JShell's class files (each cell compiles a little slower than the one before): "
                    + "start the JVM with --add-opens jdk.jshell/jdk.jshell=ALL-UNNAMED (" + replClasses.unavailable() + ")");
        }
        DirectExpressions d = directExpressions && valueDeclarations ? new DirectExpressions(shell, provider, replClasses) : null;
        if (d != null && d.unavailable() != null) {
            Log.info("expressions go through JShell's three compiler tasks instead of one: start the JVM with "
                    + String.join(" ", DirectExpressions.JVM_FLAGS) + " (" + d.unavailable() + ")");
            d = null;
        }
        direct = d;
        simple = simpleExpressions && valueDeclarations ? new SimpleExpressions(new ReplVariables(shell, provider)) : null;
        imports = new ArrayList<>();
        index.busy();   // starting counts as busy: the index waits for idleness after it
        try {
            for (String imp : Imports.startup(Engine.class.getClassLoader())) {
                var events = shell.eval(imp);
                if (!events.isEmpty() && events.getFirst().status() == Snippet.Status.VALID) imports.add(imp);
            }
        } finally {
            index.idle();
        }
    }

    /** The startup imports that are in effect. */
    public List<String> imports() {
        return List.copyOf(imports);
    }

    /** Class path entries added with {@link #addToClasspath}. */
    public List<String> addedClassPath() {
        return List.copyOf(addedClassPath);
    }

    /** Adds a jar or directory to both the compiler's and the execution class path. */
    public void addToClasspath(String path) {
        shell.addToClasspath(path);
        addedClassPath.add(path);
    }

    /**
     * The class path the kernel runs with, as file paths: {@code longconv4j.classpath} if set, else
     * {@code java.class.path}; a single jar (java -jar) is expanded with its manifest Class-Path.
     */
    public static List<String> classPath() {
        String cp = System.getProperty("longconv4j.classpath", System.getProperty("java.class.path", ""));
        var out = new LinkedHashSet<String>();
        for (String e : cp.split(File.pathSeparator)) {
            if (e.isBlank()) continue;
            out.add(e);
            if (e.endsWith(".jar") && Files.isRegularFile(Path.of(e))) {
                try (var jar = new JarFile(e)) {
                    var mf = jar.getManifest();
                    String extra = mf == null ? null : mf.getMainAttributes().getValue("Class-Path");
                    if (extra != null) {
                        Path dir = Path.of(e).toAbsolutePath().getParent();
                        for (String rel : extra.trim().split("\\s+")) out.add(dir.resolve(rel).normalize().toString());
                    }
                } catch (IOException ignored) {
                    // not a readable jar: keep it as it is
                }
            }
        }
        return List.copyOf(out);
    }

    /**
     * Evaluates Java code (no magics): snippet by snippet, stopping at the first error.
     *
     * @param code      the cell's Java source
     * @param firstLine line number of the code's first line inside the cell (for error messages), 1-based
     * @param warn      receives warnings such as "method m cannot be invoked until x is declared"
     */
    public Eval eval(String code, int firstLine, java.util.function.Consumer<String> warn) {
        return eval(code, firstLine, warn, null);
    }

    /** Like {@link #eval(String, int, java.util.function.Consumer)}; {@code timer} (nullable) gets each snippet's source and nanoseconds. */
    public Eval eval(String code, int firstLine, java.util.function.Consumer<String> warn,
                     java.util.function.BiConsumer<String, Long> timer) {
        index.busy();
        try {
            return evalSnippets(code, firstLine, warn, timer);
        } finally {
            index.idle();
        }
    }

    private Eval evalSnippets(String code, int firstLine, java.util.function.Consumer<String> warn,
                              java.util.function.BiConsumer<String, Long> timer) {
        interrupted = false;
        Eval last = Eval.none();
        String rest = code;
        while (true) {
            if (interrupted) return new Eval(false, null, Errors.interrupted());
            SourceCodeAnalysis.CompletionInfo info = sca.analyzeCompletion(rest);
            Completeness c = info.completeness();
            if (c == Completeness.EMPTY) return last;
            int start = code.length() - rest.length() + leadingSpace(rest);
            int line = firstLine + count(code, start);
            if (c == Completeness.DEFINITELY_INCOMPLETE || c == Completeness.CONSIDERED_INCOMPLETE) {
                return new Eval(false, null, Errors.incomplete(rest.strip(), line));
            }
            String src = c == Completeness.UNKNOWN ? rest : info.source();
            rest = c == Completeness.UNKNOWN ? "" : info.remaining();
            long t0 = System.nanoTime();
            String expr = valueSnippets == null ? null : valueSnippets.expression(src);
            last = expr == null || simple == null ? null : evalSimple(expr);
            if (last == null && expr != null) last = direct != null ? evalDirect(expr, src, line, warn) : evalValue(expr, src, line, warn);
            if (last == null) {
                last = evalSnippet(src, line, warn);
                if (expr != null && lastSnippet instanceof jdk.jshell.StatementSnippet) valueSnippets.markVoid(expr);
            }
            if (pruneClassFiles) replClasses.prune();
            if (timer != null) timer.accept(src, System.nanoTime() - t0);
            if (last.error() != null) return last;
        }
    }

    /**
     * Prefix of the variables expression values go to ({@link ValueSnippets}); each is dropped once read.
     * Each gets a new name: a snippet that reuses a dropped variable's name is a redefinition to JShell,
     * which then compiles it twice (once to try redefining the old class, once under a new class name).
     */
    static final String VALUE_VAR = "$lc4jValue";
    /** Snippets tried as value declarations, and those JShell accepted as such (for tests). */
    private int values, valueHits;

    /**
     * Evaluates the expression {@code expr} as {@code Object $lc4jValueN = (expr\n);}: JShell needs no type
     * analysis for a declared type, so this runs two javac tasks fewer than {@code expr} itself. Null when
     * JShell did not accept it as such (then nothing ran and the caller evaluates {@code src} as written).
     */
    private Eval evalValue(String expr, String src, int line, java.util.function.Consumer<String> warn) {
        String name = VALUE_VAR + ++values;
        List<SnippetEvent> events = run("Object " + name + " = (" + expr + "\n);");
        SnippetEvent main = null;
        for (SnippetEvent ev : events) if (ev.causeSnippet() == null) main = ev;
        if (main == null || !(main.snippet() instanceof VarSnippet v) || !v.name().equals(name)) return null;
        if (main.status() != Snippet.Status.VALID) {   // rejected (void, no target type, unknown name ...): ran nothing
            forget(v);
            return null;
        }
        lastSnippet = v;
        valueHits++;
        valueSnippet = v;
        try {
            return handle(events, src, line, warn);
        } finally {
            valueSnippet = null;
            forget(v);
        }
    }

    /**
     * Evaluates the expression {@code expr} with {@link DirectExpressions}: one javac task and no snippet. Null when
     * it did not compile there (nothing ran); the caller then evaluates {@code src} as written through JShell, whose
     * messages the user sees (JShell's value path is skipped: it wraps the expression the same way).
     */
    private Eval evalDirect(String expr, String src, int line, java.util.function.Consumer<String> warn) {
        DirectExpressions.Outcome o;
        running = true;
        try {
            o = direct.eval(expr);
        } finally {
            running = false;
        }
        if (o == null) return null;
        lastSnippet = null;
        o.warnings().forEach(warn);
        if (o.thrown() == null && o.failure() == null) return new Eval(true, o.value(), null);
        if (interrupted || o.failure() instanceof jdk.jshell.spi.ExecutionControl.StoppedException) {
            return new Eval(false, null, Errors.interrupted());
        }
        if (o.thrown() instanceof EvalException ee) return new Eval(false, null, Errors.runtime(ee, line, src));
        if (o.thrown() instanceof UnresolvedReferenceException ure) {
            return new Eval(false, null, Errors.unresolved(ure, shell.unresolvedDependencies(ure.getSnippet()).toList()));
        }
        Exception ex = o.thrown() != null ? o.thrown() : o.failure();
        return new Eval(false, null, new CellResult.Error(ex.getClass().getSimpleName(), String.valueOf(ex.getMessage()),
                List.of(String.valueOf(ex.getMessage()))));
    }

    /** Evaluates {@code expr} with {@link SimpleExpressions}; null when it is not in that subset or threw (nothing ran). */
    private Eval evalSimple(String expr) {
        SimpleExpressions.Result r = simple.eval(expr);
        if (r == null) return null;
        lastSnippet = null;
        return new Eval(true, r.value(), null);
    }

    /** {expressions tried by {@link SimpleExpressions}, evaluated there}, or null without it; for tests. */
    int[] simpleExpressions() {
        return simple == null ? null : simple.counts();
    }

    /** {expressions tried by {@link DirectExpressions}, compiled and run there}, or null without it; for tests. */
    int[] directExpressions() {
        return direct == null ? null : direct.counts();
    }

    private List<SnippetEvent> run(String src) {
        running = true;
        try {
            return shell.eval(src);
        } finally {
            running = false;
        }
    }

    private Eval evalSnippet(String src, int line, java.util.function.Consumer<String> warn) {
        List<SnippetEvent> events = run(src);
        lastSnippet = null;
        for (SnippetEvent ev : events) if (ev.causeSnippet() == null) lastSnippet = ev.snippet();
        return handle(events, src, line, warn);
    }

    private Eval handle(List<SnippetEvent> events, String src, int line, java.util.function.Consumer<String> warn) {
        Eval result = Eval.none();
        for (SnippetEvent ev : events) {
            if (ev.causeSnippet() != null) continue; // updates of dependent snippets
            Snippet s = ev.snippet();
            JShellException ex = ev.exception();
            if (ex != null) {
                if (interrupted) return new Eval(false, null, Errors.interrupted());
                if (ex instanceof EvalException ee) return new Eval(false, null, Errors.runtime(ee, line, src));
                if (ex instanceof UnresolvedReferenceException ure) {
                    return new Eval(false, null, Errors.unresolved(ure, shell.unresolvedDependencies(ure.getSnippet()).toList()));
                }
                return new Eval(false, null, new CellResult.Error(ex.getClass().getSimpleName(), String.valueOf(ex.getMessage()), List.of(String.valueOf(ex.getMessage()))));
            }
            if (ev.status() == Snippet.Status.REJECTED) {
                List<Diag> diags = shell.diagnostics(s).toList();
                return new Eval(false, null, Errors.compile(src, line, diags));
            }
            if (ev.status() == Snippet.Status.RECOVERABLE_DEFINED || ev.status() == Snippet.Status.RECOVERABLE_NOT_DEFINED) {
                var deps = shell.unresolvedDependencies((jdk.jshell.DeclarationSnippet) s).toList();
                if (!deps.isEmpty()) warn.accept("note: " + describe(s) + " cannot be used until " + String.join(", ", deps) + " is declared\n");
            }
            for (Diag d : shell.diagnostics(s).toList()) {
                if (!d.isError()) warn.accept("warning: " + d.getMessage(Locale.ROOT) + "\n");
            }
            result = valueOf(s, ev);
        }
        return result;
    }

    private Eval valueOf(Snippet s, SnippetEvent ev) {
        VarSnippet var = null;
        if (s instanceof VarSnippet v && (v.subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND || v == valueSnippet)) var = v;
        else if (s instanceof ExpressionSnippet e) {
            if (e.subKind() != Snippet.SubKind.VAR_VALUE_SUBKIND && e.subKind() != Snippet.SubKind.ASSIGNMENT_SUBKIND) return Eval.none();
            var = shell.variables().filter(v -> v.name().equals(e.name()) && shell.status(v).isActive()).findFirst().orElse(null);
        }
        if (var == null || ev.value() == null) return Eval.none();
        try {
            shell.varValue(var);
            return new Eval(true, provider.control().takeVar(), null);
        } catch (RuntimeException | Error e) {
            return new Eval(true, ev.value(), null);
        } finally {
            if (var == s) forget(var);
        }
    }

    /**
     * Drops the temporary variable ({@code $N}) JShell made for an expression once its value is read.
     * Every active declaration becomes an {@code import static} of every later snippet's wrapper, so
     * keeping one {@code $N} per expression cell made each later cell compile slower (measured: 1+1 took
     * about 3x the CPU time after 400 expression cells; see BENCHMARKS.md). Assign to a variable to keep
     * a value.
     */
    private void forget(VarSnippet temp) {
        try {
            shell.drop(temp);
        } catch (RuntimeException ignored) {
            // already gone (e.g. replaced): nothing to drop
        }
    }

    private static String describe(Snippet s) {
        return switch (s) {
            case jdk.jshell.MethodSnippet m -> "method " + m.name() + "(" + m.parameterTypes() + ")";
            case jdk.jshell.TypeDeclSnippet t -> "type " + t.name();
            case VarSnippet v -> "variable " + v.name();
            default -> "snippet";
        };
    }

    /** Active temporary ({@code $N}) variables; for tests (expression values are dropped once read). */
    long activeTempVars() {
        return shell.variables().filter(v -> v.subKind() == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND).count();
    }

    /** A point in the session's history to {@link #dropSince} (the snippets known so far). */
    Object mark() {
        return new java.util.HashSet<>(shell.snippets().toList());
    }

    /** Drops every declaration made since {@code mark} (latest first), so the session is as it was then. */
    @SuppressWarnings("unchecked")
    void dropSince(Object mark) {
        var before = (java.util.Set<Snippet>) mark;
        List<Snippet> added = new ArrayList<>(shell.snippets()
                .filter(s -> s instanceof jdk.jshell.PersistentSnippet && !before.contains(s) && shell.status(s).isActive()).toList());
        java.util.Collections.reverse(added);
        for (Snippet s : added) {
            try {
                if (shell.status(s).isActive()) shell.drop(s);
            } catch (RuntimeException ignored) {
                // gone with an earlier drop
            }
        }
        if (pruneClassFiles) replClasses.prune();
    }

    /** {snippets tried as value declarations, accepted by JShell}; for tests. */
    int[] valueDeclarations() {
        return new int[]{values, valueHits};
    }

    /** Class files JShell holds for later compiles (-1: pruning unavailable); for tests. */
    int replClassFiles() {
        return replClasses.count();
    }

    /** Runs {@code a} around each snippet's execution from now on (null: no longer), on the snippet's thread. */
    void around(InProcessControl.Around a) {
        provider.control().around(a);
    }

    /** Evaluates one expression and returns its live value (used by magics such as %timeit). */
    public Eval value(String expression) {
        return eval(expression, 1, w -> { });
    }

    /**
     * Asks the running cell to stop: interrupts the thread running user code and sets JShell's stop
     * flag (instrumented snippet loops end). Compilation is never interrupted; the cell then stops
     * before its next snippet.
     */
    public void interrupt() {
        interrupted = true;
        try {
            shell.stop();
        } catch (RuntimeException ignored) {
            // no user code running: the flag above stops the cell before its next snippet
        }
    }

    /** Whether JShell is inside eval (compiling or running) right now. */
    public boolean running() {
        return running;
    }

    // ---- completion, inspection, is_complete ---------------------------------------------------

    /** Completion matches replacing {@code code[start, end)}. */
    public record Completion(int start, int end, List<String> matches) { }

    /**
     * Completion at {@code cursor} (a UTF-16 index) inside a cell of Java code (magic lines blanked).
     * Besides what the session knows, the names declared by earlier snippets of the same cell (not yet
     * run: variables, methods, classes) complete as plain identifiers (not their members: their types
     * are only known once they run); JShell reads those snippets without running them.
     */
    public Completion complete(String code, int cursor) {
        index.now();
        int base = snippetStart(code, cursor);
        Completion own = suggestions(code.substring(base), cursor - base);
        int start = base + own.start();
        var matches = new LinkedHashSet<>(own.matches());
        int p = cursor;
        while (p > base && Character.isJavaIdentifierPart(code.charAt(p - 1))) p--;
        String prefix = code.substring(p, cursor);
        boolean member = p > 0 && code.charAt(p - 1) == '.';
        if (base > 0 && !prefix.isEmpty() && !member) {
            int before = matches.size();
            for (String name : declaredNames(code.substring(0, base))) if (name.startsWith(prefix)) matches.add(name);
            if (matches.size() > before) start = p;
        }
        return new Completion(start, cursor, List.copyOf(matches));
    }

    /** Names the snippets of {@code code} would declare (methods as {@code name(}), read by JShell without running them. */
    private List<String> declaredNames(String code) {
        var names = new ArrayList<String>();
        String rest = code;
        while (true) {
            var info = sca.analyzeCompletion(rest);
            if (!info.completeness().isComplete() || info.completeness() == Completeness.EMPTY) return names;
            for (Snippet s : sca.sourceToSnippets(info.source())) {
                switch (s) {
                    case VarSnippet v when !v.name().startsWith("$") -> names.add(v.name());
                    case jdk.jshell.MethodSnippet m -> names.add(m.name() + "(");
                    case jdk.jshell.TypeDeclSnippet t -> names.add(t.name());
                    default -> { }
                }
            }
            rest = info.remaining();
        }
    }

    private Completion suggestions(String code, int cursor) {
        int[] anchor = new int[1];
        var seen = new LinkedHashSet<String>();
        for (var s : sca.completionSuggestions(code, cursor, anchor)) seen.add(s.continuation());
        return new Completion(anchor[0], cursor, List.copyOf(seen));
    }

    /** Signature and Javadoc of what is at {@code cursor}, or "" when JShell finds nothing. */
    public String inspect(String code, int cursor) {
        index.now();
        String doc = documentation(code, cursor);
        if (!doc.isEmpty()) return doc;
        int end = cursor;   // on a method name: ask as if the cursor were just inside its parentheses
        while (end < code.length() && Character.isJavaIdentifierPart(code.charAt(end))) end++;
        return end > 0 ? documentation(code.substring(0, end) + "(", end + 1) : "";
    }

    private String documentation(String code, int cursor) {
        int base = snippetStart(code, cursor);
        var sb = new StringBuilder();
        for (var d : sca.documentation(code.substring(base), cursor - base, true)) {
            sb.append(d.signature()).append('\n');
            if (d.javadoc() != null && !d.javadoc().isBlank()) sb.append('\n').append(d.javadoc().strip()).append("\n\n");
        }
        return sb.toString().strip();
    }

    /** Jupyter's is_complete status for Java code: complete, incomplete or invalid. */
    public String isComplete(String code) {
        String rest = code;
        while (true) {
            var info = sca.analyzeCompletion(rest);
            switch (info.completeness()) {
                case EMPTY: return "complete";
                case DEFINITELY_INCOMPLETE, CONSIDERED_INCOMPLETE: return "incomplete";
                case UNKNOWN: return "invalid";
                default: rest = info.remaining();
            }
        }
    }

    /** Start offset of the snippet containing {@code cursor}. */
    private int snippetStart(String code, int cursor) {
        int start = 0;
        String rest = code;
        while (true) {
            var info = sca.analyzeCompletion(rest);
            if (!info.completeness().isComplete() || info.completeness() == Completeness.EMPTY) return start;
            int next = code.length() - info.remaining().length();
            if (next >= cursor || next <= start) return start;
            start = next;
            rest = info.remaining();
        }
    }

    private static int leadingSpace(String s) {
        int i = 0;
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        return i;
    }

    private static int count(String s, int end) {
        int n = 0;
        for (int i = 0; i < end && i < s.length(); i++) if (s.charAt(i) == '\n') n++;
        return n;
    }

    /** Whether JShell's class-path index is still held back ({@link DeferredIndex}); for tests. */
    boolean indexHeld() {
        return index.held();
    }

    /** Waits until JShell's class-path index is complete; for tests. */
    void awaitIndexed() throws ReflectiveOperationException {
        index.awaitIndexed();
    }

    @Override
    public void close() {
        index.close();
        shell.close();
    }
}
