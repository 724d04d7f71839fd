// Keeps JShell's in-memory class files down to the wrappers of live declarations. No tensor shapes here.
package ai.longconv4j.kernel;

import jdk.jshell.JShell;
import jdk.jshell.Snippet;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * JShell keeps the class file of every snippet it ever compiled (one wrapper class {@code REPL.$JShell$N}
 * per snippet) in its in-memory file manager, and javac lists that whole package again in every one of
 * the ~5 compiler tasks of every later snippet (JShell purges the {@code REPL} package from javac's
 * symbol table after each task). So without pruning each cell compiles slower than the one before:
 * measured (BENCHMARKS.md), {@code 1+1} took ~10 ms of CPU with pruning against 17–20 ms after
 * 600–1200 cells without.
 * <p>
 * Only the wrappers of active declarations (variables, methods, classes: what later snippets import)
 * are needed by later compiles; expressions, statements and dropped, overwritten or rejected
 * declarations are never referenced again (their classes stay loaded where they ran). {@link #prune}
 * removes the rest. It reaches into JShell's private file manager by reflection, which needs
 * {@code --add-opens jdk.jshell/jdk.jshell=ALL-UNNAMED} (the kernelspec, {@code bin/longconv4j} and the
 * jar's manifest give it); without it nothing is pruned and everything still works, slower.
 */
final class ReplClasses {
    private static final String WRAPPER_PREFIX = "REPL.$JShell$";

    private final JShell shell;
    private final javax.tools.JavaFileManager fileManager;   // JShell's MemoryFileManager; null: no access
    private final Object taskFactory;   // JShell's TaskFactory: its tasks (also completions on another thread) hold this lock
    private final Map<String, ?> classFiles;   // null: no access
    private final Method classFullName;
    private final String unavailable;

    @SuppressWarnings("unchecked")
    ReplClasses(JShell shell) {
        this.shell = shell;
        Map<String, ?> files = null;
        javax.tools.JavaFileManager manager = null;
        Object factory = null;
        Method name = null;
        String why = null;
        try {
            factory = field(JShell.class, "taskFactory").get(shell);
            manager = (javax.tools.JavaFileManager) field(factory.getClass(), "fileManager").get(factory);
            files = (Map<String, ?>) field(manager.getClass(), "classObjects").get(manager);
            name = Snippet.class.getDeclaredMethod("classFullName");
            name.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {   // InaccessibleObjectException without --add-opens
            files = null;
            manager = null;
            factory = null;
            why = e.toString();
        }
        this.fileManager = manager;
        this.taskFactory = factory;
        this.classFiles = files;
        this.classFullName = name;
        this.unavailable = why;
    }

    /** A declared field of {@code owner} made accessible (JShell's internals: needs the jdk.jshell open). */
    static Field field(Class<?> owner, String name) throws NoSuchFieldException {
        Field f = owner.getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }

    /** Why pruning is off, or null when it works. */
    String unavailable() {
        return unavailable;
    }

    /** JShell's file manager (its class path and the class files it compiled), or null without access. */
    javax.tools.JavaFileManager fileManager() {
        return fileManager;
    }

    /** The lock JShell's compiler tasks hold (its TaskFactory), or null without access. */
    Object taskLock() {
        return taskFactory;
    }

    /** JShell's class files by binary name (live: removing one removes it for JShell), or null without access. */
    Map<String, ?> classFiles() {
        return classFiles;
    }

    /** Number of class files JShell holds (-1 when not accessible). */
    int count() {
        return classFiles == null ? -1 : classFiles.size();
    }

    /**
     * Removes the class files of everything but active declarations. Cost: one pass over JShell's
     * snippet list (microseconds per thousand snippets) and over the (small) class file map.
     */
    void prune() {
        if (classFiles == null) return;
        Set<String> keep = new HashSet<>();
        try {
            List<Snippet> live = Stream.of(shell.variables(), shell.methods(), shell.types())
                    .<Snippet>flatMap(x -> x.map(Snippet.class::cast)).toList();
            for (Snippet s : live) keep.add((String) classFullName.invoke(s));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return;   // leave everything in place
        }
        synchronized (taskFactory) {   // a completion's task may be listing the REPL package right now
            classFiles.keySet().removeIf(k -> k.startsWith(WRAPPER_PREFIX) && !keep.contains(wrapperOf(k)));
        }
    }

    /** {@code REPL.$JShell$12$Foo} -> {@code REPL.$JShell$12}; names outside the wrappers unchanged. */
    static String wrapperOf(String className) {
        if (!className.startsWith(WRAPPER_PREFIX)) return className;
        int nested = className.indexOf('$', WRAPPER_PREFIX.length());
        return nested < 0 ? className : className.substring(0, nested);
    }
}
