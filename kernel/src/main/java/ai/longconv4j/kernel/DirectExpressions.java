// Expression cells compiled in one pooled javac task beside JShell (JShell's value path runs three). No tensor shapes.
package ai.longconv4j.kernel;

import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControl.ClassBytecodes;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The fast path for a cell's expression. JShell evaluates {@code Object $lc4jValueN = (EXPR);} with a parse,
 * an analysis and a compile task and keeps a snippet for it; most of a {@code 1+1} round trip is those
 * three tasks and the JIT compiling them (kernel/BENCHMARKS.md). Here the expression is compiled once, as
 * <pre>
 *   package REPL; &lt;JShell's imports of every live declaration and import&gt; class $Lc4jExpr$N {
 *     public static java.lang.Object $lc4j$v; public static java.lang.Object do_it$() throws java.lang.Throwable {
 *   $lc4j$v = (EXPR
 *   ); return null; } }
 * </pre>
 * in one javac task from a pool that reuses javac's context (as JShell's own tasks do), with JShell's file
 * manager (its class path and the class files of the live declarations), then loaded and run through the
 * same execution engine as JShell's snippets (same class loader, stop checks, {@link InProcessControl.Around}).
 * The import header is JShell's own ({@code SnippetMaps.packageAndImportsExcept}), so names resolve as in a
 * snippet. Anything this compile rejects (a void call, a name only JShell's enhanced variable types know, a
 * lambda without a target type) is not an error here: {@link #eval} returns null and the engine takes
 * JShell's path, whose result and messages are the ones the user sees. Measured in-process (200 cells after
 * 20, {@code x + 1}): 8.2 ms of the cell thread's CPU and 19–21 ms of the process's per cell against 14.4 and
 * 34 ms through JShell.
 * <p>
 * Needs {@code --add-opens jdk.jshell/jdk.jshell=ALL-UNNAMED} and javac's internals exported
 * ({@link #JVM_FLAGS}; the kernelspec, the kernel jar's manifest and {@code bin/longconv4j} give them);
 * without them {@link #unavailable()} says why and every expression takes JShell's path.
 */
final class DirectExpressions {
    /** JVM flags that make javac's pooled tasks and symbol table reachable (besides the jdk.jshell open). */
    static final List<String> JVM_FLAGS = List.of(
            "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
            "--add-opens=jdk.compiler/com.sun.tools.javac.code=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED");
    /**
     * Simple-name prefix of the generated classes: it matches JShell's wrapper-name pattern, so JShell's stack
     * translation keeps their frames (it cuts a trace below the last wrapper frame); JShell's own names are
     * {@code $JShell$} + a number, so they never collide.
     */
    static final String CLASS_PREFIX = "$JShell$Lc4jExpr$";
    /**
     * The generated class's value field. Not {@code v} or any name a user would pick: the field is in scope in the
     * expression and would hide a user variable of that name (it did: {@code var v = 3;} then {@code v == null}
     * gave true); expressions that mention it go to JShell.
     */
    static final String VALUE_FIELD = "$lc4j$v";
    /** Line of the generated source on which the expression starts (1-based). */
    static final int EXPR_LINE = 2;
    private static final List<String> OPTIONS = List.of("-Xlint:unchecked,-strictfp", "-proc:none", "-parameters",
            "-Xlint:none", "-proc:none");

    /**
     * What one expression gave: its value, or what it threw as JShell reports it for a snippet (an
     * {@link jdk.jshell.EvalException} or {@link jdk.jshell.UnresolvedReferenceException}), or a
     * {@link ExecutionControl.StoppedException} / other engine failure in {@code failure}.
     */
    record Outcome(Object value, JShellException thrown, ExecutionControl.ExecutionControlException failure, List<String> warnings) { }

    private final InProcessControl.Provider provider;
    private final String unavailable;
    private JavaFileManager fileManager;
    /** Tests: off compiles with JShell's file manager as it is (the slow twin of {@link ReplListing}). */
    static volatile boolean listReplFast = !"false".equals(System.getProperty("longconv4j.replListing"));
    /** JShell's TaskFactory: its tasks hold this lock, so a completion on another thread never shares the file manager with ours. */
    private Object taskFactory;
    private Map<String, ?> classObjects;
    private Method getBytes;
    private Object maps;
    private Method imports;
    private Object jshellEval;
    private Method asJShellException;
    private Javac javac;
    /**
     * Tests: compare the REPL purge's two ways on every task ({@link Purge}); {@link #purged} counts the names,
     * {@link #purgeMismatch} holds the first difference.
     */
    static volatile boolean verifyPurge;
    static volatile long purged;
    static volatile String purgeMismatch;
    private int count;
    private int hits;

    DirectExpressions(JShell shell, InProcessControl.Provider provider, ReplClasses replClasses) {
        this.provider = provider;
        String why = null;
        try {
            Module compiler = ModuleLayer.boot().findModule("jdk.compiler").orElseThrow();
            for (String p : List.of("com.sun.tools.javac.api", "com.sun.tools.javac.code", "com.sun.tools.javac.util")) {
                if (!compiler.isExported(p, DirectExpressions.class.getModule())) throw new IllegalStateException(p + " not exported");
            }
            if (replClasses.unavailable() != null) throw new IllegalStateException(replClasses.unavailable());
            JavaFileManager jshellFiles = replClasses.fileManager();
            Object std = ReplClasses.field(jshellFiles.getClass(), "stdFileManager").get(jshellFiles);
            @SuppressWarnings("unchecked")
            var generated = (Map<String, ? extends JavaFileObject>) replClasses.classFiles();
            fileManager = listReplFast && std instanceof javax.tools.StandardJavaFileManager s
                    ? new ReplListing(jshellFiles, s, generated) : jshellFiles;
            taskFactory = replClasses.taskLock();
            classObjects = generated;
            maps = ReplClasses.field(JShell.class, "maps").get(shell);
            imports = maps.getClass().getDeclaredMethod("packageAndImportsExcept", Set.class, Collection.class);
            imports.setAccessible(true);
            jshellEval = ReplClasses.field(JShell.class, "eval").get(shell);
            asJShellException = jshellEval.getClass().getDeclaredMethod("asJShellException", Throwable.class);
            asJShellException.setAccessible(true);
            javac = new Javac();
        } catch (ReflectiveOperationException | RuntimeException e) {   // no --add-opens / --add-exports, or another JDK
            why = e.toString();
        }
        unavailable = why;
    }

    /** Why the fast path is off, or null when it works. */
    String unavailable() {
        return unavailable;
    }

    /** {expressions tried, compiled and run here}; for tests. */
    int[] counts() {
        return new int[]{count, hits};
    }

    /**
     * Compiles and runs {@code expr}; null when it did not compile here (nothing ran: take JShell's path).
     * Runtime failures come back in {@link Outcome#thrown()} (a {@link ExecutionControl.UserException} with the
     * stack trace's generated-source lines already made expression-relative, or a {@link ExecutionControl.StoppedException}).
     */
    Outcome eval(String expr) {
        if (unavailable != null) return null;
        // the generated class's own members would hide a user's declaration of the same name (a class's members
        // shadow its static imports): such an expression takes JShell's path (a string that merely contains them too)
        if (expr.contains(VALUE_FIELD) || expr.contains("do_it$")) return null;
        count++;
        String cls = CLASS_PREFIX + count;
        String name = "REPL." + cls;
        ClassBytecodes[] classes;
        var warnings = new ArrayList<String>();
        try {
            String header = ((String) imports.invoke(maps, null, null)).replace('\n', ' ');
            String src = header + " class " + cls + " { public static java.lang.Object " + VALUE_FIELD + "; "
                    + "public static java.lang.Object do_it$() throws java.lang.Throwable {\n" + VALUE_FIELD + " = (" + expr + "\n); return null; } }\n";
            var file = new SimpleJavaFileObject(URI.create("string:///REPL/" + cls + ".java"), JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return src;
                }
            };
            var diags = new DiagnosticCollector<JavaFileObject>();
            boolean ok;
            var out = new ArrayList<ClassBytecodes>();   // the class and any nested classes javac made for it
            synchronized (taskFactory) {   // JShell's own tasks (completion, inspection on the shell thread) lock it too
                ok = javac.compile(fileManager, diags, OPTIONS, file);
                for (var it = classObjects.entrySet().iterator(); it.hasNext(); ) {
                    var e = it.next();
                    if (!e.getKey().equals(name) && !e.getKey().startsWith(name + "$")) continue;
                    if (getBytes == null) {
                        getBytes = e.getValue().getClass().getMethod("getBytes");
                        getBytes.setAccessible(true);
                    }
                    out.add(new ClassBytecodes(e.getKey(), (byte[]) getBytes.invoke(e.getValue())));
                    it.remove();
                }
            }
            if (!ok || out.isEmpty()) return null;
            for (var d : diags.getDiagnostics()) {
                if (d.getKind() == Diagnostic.Kind.WARNING || d.getKind() == Diagnostic.Kind.MANDATORY_WARNING) {
                    warnings.add("warning: " + d.getMessage(Locale.ROOT) + "\n");
                }
            }
            classes = out.toArray(ClassBytecodes[]::new);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
        InProcessControl control = provider.control();
        try {
            control.load(classes);
        } catch (ExecutionControl.ExecutionControlException | RuntimeException e) {
            return null;   // not loaded: nothing ran
        }
        hits++;
        try {
            control.invoke(name, "do_it$");
            return new Outcome(control.takeStatic(name, VALUE_FIELD), null, null, warnings);
        } catch (ExecutionControl.UserException | ExecutionControl.ResolutionException e) {
            try {
                JShellException j = (JShellException) asJShellException.invoke(jshellEval, e);   // JShell's stack translation
                for (Throwable t = j; t != null; t = t.getCause()) t.setStackTrace(relined(t.getStackTrace(), name));
                return new Outcome(null, j, null, warnings);
            } catch (ReflectiveOperationException | RuntimeException r) {
                return new Outcome(null, null, e, warnings);
            }
        } catch (ExecutionControl.ExecutionControlException e) {
            return new Outcome(null, null, e, warnings);
        }
    }

    /** Frames of the generated class (and its lambdas, anonymous classes) as JShell shows a snippet's: file "#expr", expression lines. */
    private static StackTraceElement[] relined(StackTraceElement[] st, String cls) {
        var out = new StackTraceElement[st.length];
        for (int i = 0; i < st.length; i++) {
            StackTraceElement f = st[i];
            boolean ours = f.getClassName().equals(cls) || f.getClassName().startsWith(cls + "$");
            out[i] = ours ? new StackTraceElement(f.getClassName(), f.getMethodName(), "#expr", f.getLineNumber() - EXPR_LINE + 1) : f;
        }
        return out;
    }

    /**
     * JShell's file manager with one shortcut: javac lists the class path's {@code REPL} package at least once per
     * task (the purge below empties it), and JShell's manager answers that by asking its standard manager to look
     * into every class-path entry (the kernel's ~50 jars; ~0.5 ms of the cell thread at cell 100) before adding
     * its generated classes. Here the standard manager's answer is kept while the class path and the request
     * stay the same (it is empty unless a jar or directory holds a package {@code REPL}), and JShell's generated
     * classes are added to it as JShell does. Measured in kernel/BENCHMARKS.md (session 10);
     * {@code -Dlongconv4j.replListing=false} turns it off, and {@code DirectExpressionsTest} compares the two.
     */
    static final class ReplListing extends javax.tools.ForwardingJavaFileManager<JavaFileManager> {
        private final javax.tools.StandardJavaFileManager std;
        private final Map<String, ? extends JavaFileObject> generated;
        private List<Object> key;
        private List<JavaFileObject> stdRepl;
        /** Tests: listings answered from the kept one / made anew. */
        static volatile long kept, made;

        ReplListing(JavaFileManager jshellFiles, javax.tools.StandardJavaFileManager std, Map<String, ? extends JavaFileObject> generated) {
            super(jshellFiles);
            this.std = std;
            this.generated = Objects.requireNonNull(generated, "JShell's class files");
        }

        @Override
        public Iterable<JavaFileObject> list(Location location, String packageName, Set<JavaFileObject.Kind> kinds, boolean recurse)
                throws java.io.IOException {
            if (location != javax.tools.StandardLocation.CLASS_PATH || !packageName.equals("REPL")) {
                return super.list(location, packageName, kinds, recurse);
            }
            var now = new ArrayList<Object>();
            now.add(Set.copyOf(kinds));
            now.add(recurse);
            Iterable<? extends java.io.File> path = std.getLocation(location);
            if (path != null) path.forEach(now::add);
            if (!now.equals(key)) {
                var fresh = new ArrayList<JavaFileObject>();
                std.list(location, packageName, kinds, recurse).forEach(fresh::add);
                stdRepl = fresh;
                key = now;
                made++;
            } else {
                kept++;
            }
            var out = new ArrayList<JavaFileObject>(stdRepl.size() + generated.size());
            out.addAll(stdRepl);
            out.addAll(generated.values());   // as JShell's manager: after the class path's, whatever the kinds asked
            return out;
        }
    }

    /**
     * javac tasks from one {@code com.sun.tools.javac.api.JavacTaskPool} (context reused between tasks), reached by
     * reflection so that the kernel compiles with {@code --release}. After each task the {@code REPL} package is
     * purged from the pooled symbol table, as JShell does for its own pool: the next task must list it anew.
     */
    private static final class Javac {
        private final Object pool;
        private final Method getTask;
        private final Class<?> worker;
        private final Method getContext;
        private final Method symtabInstance;
        private final Method namesInstance;
        private final Method fromString;
        private final Method getPackage;
        private final Method finderInstance;
        private final Method getCompleter;
        private final Field javaBase;
        private final Field noModule;
        private final Field unnamedModule;
        private final Field members;
        private final Field completer;

        Javac() throws ReflectiveOperationException {
            Class<?> poolClass = Class.forName("com.sun.tools.javac.api.JavacTaskPool");
            pool = poolClass.getConstructor(int.class).newInstance(1);
            worker = Class.forName("com.sun.tools.javac.api.JavacTaskPool$Worker");
            getTask = poolClass.getMethod("getTask", java.io.Writer.class, JavaFileManager.class, javax.tools.DiagnosticListener.class,
                    Iterable.class, Iterable.class, Iterable.class, worker);
            getContext = Class.forName("com.sun.tools.javac.api.BasicJavacTask").getMethod("getContext");
            Class<?> context = Class.forName("com.sun.tools.javac.util.Context");
            Class<?> symtab = Class.forName("com.sun.tools.javac.code.Symtab");
            Class<?> names = Class.forName("com.sun.tools.javac.util.Names");
            Class<?> name = Class.forName("com.sun.tools.javac.util.Name");
            Class<?> symbol = Class.forName("com.sun.tools.javac.code.Symbol");
            Class<?> moduleSymbol = Class.forName("com.sun.tools.javac.code.Symbol$ModuleSymbol");
            Class<?> packageSymbol = Class.forName("com.sun.tools.javac.code.Symbol$PackageSymbol");
            Class<?> finder = Class.forName("com.sun.tools.javac.code.ClassFinder");
            symtabInstance = symtab.getMethod("instance", context);
            namesInstance = names.getMethod("instance", context);
            fromString = names.getMethod("fromString", String.class);
            getPackage = symtab.getMethod("getPackage", moduleSymbol, name);
            try {
                Purge.check();
            } catch (LinkageError e) {   // ExceptionInInitializerError; NoClassDefFoundError on a later try
                throw new IllegalStateException("javac's symbol table is not reachable: " + (e.getCause() != null ? e.getCause() : e), e);
            }
            finderInstance = finder.getMethod("instance", context);
            getCompleter = finder.getMethod("getCompleter");
            javaBase = symtab.getField("java_base");
            noModule = symtab.getField("noModule");
            unnamedModule = symtab.getField("unnamedModule");
            members = packageSymbol.getField("members_field");
            completer = symbol.getField("completer");
        }

        boolean compile(JavaFileManager fm, DiagnosticCollector<JavaFileObject> diags, List<String> options, JavaFileObject file)
                throws ReflectiveOperationException {
            Object w = Proxy.newProxyInstance(worker.getClassLoader(), new Class<?>[]{worker}, (proxy, m, args) -> {
                if (!m.getName().equals("withTask")) return m.invoke(this, args);   // Object's methods
                var task = (javax.tools.JavaCompiler.CompilationTask) args[0];
                Object ctx = getContext.invoke(task);   // before call(): the task drops it when done
                try {
                    return task.call();
                } finally {
                    purgeRepl(ctx);
                }
            });
            return (Boolean) getTask.invoke(pool, null, fm, diags, options, null, List.of(file), w);
        }

        private void purgeRepl(Object ctx) throws ReflectiveOperationException {
            Object syms = symtabInstance.invoke(null, ctx);
            Object mod = javaBase.get(syms) == noModule.get(syms) ? noModule.get(syms) : unnamedModule.get(syms);
            Object names = namesInstance.invoke(null, ctx);
            Object repl = getPackage.invoke(syms, mod, fromString.invoke(names, "REPL"));
            if (repl == null) return;
            try {
                if (Purge.CLASSES == null) {
                    Purge.byScan(syms, mod, repl);
                } else {
                    Object prefix = fromString.invoke(names, "REPL.");
                    if (verifyPurge) {
                        var scan = Purge.scan(syms, repl);
                        var named = Purge.named(syms, mod, prefix);
                        if (!scan.equals(named) && purgeMismatch == null) purgeMismatch = "scan " + scan + " != by name " + named;
                        purged += named.size();
                    }
                    Purge.byName(syms, mod, prefix);
                }
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new java.lang.reflect.InvocationTargetException(t);
            }
            members.set(repl, null);
            completer.set(repl, getCompleter.invoke(finderInstance.invoke(null, ctx)));
        }
    }

    /**
     * Drops the {@code REPL} package's classes from javac's pooled symbol table after each task. JShell's own
     * pool (and {@link #byScan}, the slow twin) visits every class javac has entered — thousands: the startup
     * imports' packages, java.base — through the public {@code getAllClasses()}; with
     * {@code --add-opens jdk.compiler/com.sun.tools.javac.code} {@link #byName} walks the private flat-name
     * table instead, compares names, and drops the emptied entries (which the public {@code removeClass} leaves,
     * one more per cell). Measured with JFR in the first 400 cells: the scan loop was ~6 % of the cell thread's
     * samples and its JIT compile ~2.8 s of compiler CPU (kernel/BENCHMARKS.md, session 9).
     */
    static final class Purge {
        static final MethodHandle ALL_CLASSES;
        static final MethodHandle PACKGE;
        static final MethodHandle FLAT_NAME;
        static final MethodHandle REMOVE_CLASS;
        /** {@code Symtab.classes} (flat name → module → class), or null when the package is not open to us. */
        static final MethodHandle CLASSES;
        static final MethodHandle STARTS_WITH;

        static {
            try {
                Class<?> symtab = Class.forName("com.sun.tools.javac.code.Symtab");
                Class<?> symbol = Class.forName("com.sun.tools.javac.code.Symbol");
                Class<?> classSymbol = Class.forName("com.sun.tools.javac.code.Symbol$ClassSymbol");
                Class<?> moduleSymbol = Class.forName("com.sun.tools.javac.code.Symbol$ModuleSymbol");
                Class<?> name = Class.forName("com.sun.tools.javac.util.Name");
                var lookup = MethodHandles.lookup();   // the unnamed module, to which the kernelspec exports javac's packages
                var unary = MethodType.methodType(Object.class, Object.class);
                ALL_CLASSES = lookup.unreflect(symtab.getMethod("getAllClasses")).asType(unary);
                PACKGE = lookup.unreflect(symbol.getMethod("packge")).asType(unary);
                FLAT_NAME = lookup.unreflect(classSymbol.getMethod("flatName")).asType(unary);
                REMOVE_CLASS = lookup.unreflect(symtab.getMethod("removeClass", moduleSymbol, name))
                        .asType(MethodType.methodType(void.class, Object.class, Object.class, Object.class));
                STARTS_WITH = lookup.unreflect(name.getMethod("startsWith", name))
                        .asType(MethodType.methodType(boolean.class, Object.class, Object.class));
                MethodHandle classes = null;
                if (symtab.getModule().isOpen(symtab.getPackageName(), Purge.class.getModule())) {
                    Field f = symtab.getDeclaredField("classes");
                    if (Map.class.isAssignableFrom(f.getType())) {
                        f.setAccessible(true);
                        classes = lookup.unreflectGetter(f).asType(MethodType.methodType(Map.class, Object.class));
                    }
                }
                CLASSES = classes;
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private Purge() {}

        /** Initialises the handles (a {@link LinkageError} when javac's internals are not reachable). */
        static void check() {
            Objects.requireNonNull(REMOVE_CLASS);
        }

        /** The slow twin: every class javac has entered, kept when its package is {@code repl}. */
        static void byScan(Object syms, Object mod, Object repl) throws Throwable {
            for (Object n : scan(syms, repl)) REMOVE_CLASS.invokeExact(syms, mod, n);
        }

        static Set<Object> scan(Object syms, Object repl) throws Throwable {
            var out = new java.util.HashSet<Object>();
            for (Object c : (Iterable<?>) (Object) ALL_CLASSES.invokeExact(syms)) {
                if ((Object) PACKGE.invokeExact(c) == repl) out.add((Object) FLAT_NAME.invokeExact(c));
            }
            return out;
        }

        /** Flat names {@code REPL.X} (no further dot: the package itself, not a subpackage) entered in module mod. */
        static Set<Object> named(Object syms, Object mod, Object prefix) throws Throwable {
            var out = new java.util.HashSet<Object>();
            for (var e : ((Map<?, ?>) CLASSES.invokeExact(syms)).entrySet()) {
                if (inRepl(e.getKey(), prefix) && ((Map<?, ?>) e.getValue()).containsKey(mod)) out.add(e.getKey());
            }
            return out;
        }

        static void byName(Object syms, Object mod, Object prefix) throws Throwable {
            for (var it = ((Map<?, ?>) CLASSES.invokeExact(syms)).entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                if (!inRepl(e.getKey(), prefix)) continue;
                var byModule = (Map<?, ?>) e.getValue();
                byModule.remove(mod);
                if (byModule.isEmpty()) it.remove();
            }
        }

        private static boolean inRepl(Object flatName, Object prefix) throws Throwable {
            return (boolean) STARTS_WITH.invokeExact(flatName, prefix) && flatName.toString().indexOf('.', 5) < 0;
        }
    }
}
