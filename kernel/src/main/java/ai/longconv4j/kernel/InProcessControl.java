// JShell execution engine inside the kernel's JVM that keeps variable values as live objects. No tensor shapes.
package ai.longconv4j.kernel;

import jdk.jshell.execution.LocalExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;

/**
 * In-process execution for JShell. Snippets run in this JVM through {@link LocalExecutionControl}
 * (its own thread per invocation, its stop-check instrumentation, so {@code JShell.stop()} ends
 * tight snippet loops and interrupts sleeps). On top of it, {@link #varValue} keeps the live object
 * of the variable JShell asks for, so the kernel can render the value of a cell's last expression
 * (JShell stores each expression's value in a temporary variable {@code $N}), and {@link #around}
 * runs code around each snippet on the snippet's own thread (the profiler is per thread).
 */
final class InProcessControl extends LocalExecutionControl {
    /** A snippet's body, as {@link Around} sees it. */
    interface Body {
        Object run() throws Throwable;
    }

    /** Code run around each snippet invocation, on the thread that runs the snippet. */
    interface Around {
        Object call(Body snippet) throws Throwable;
    }

    private record Invocation(Method doit, Around around) { }

    /** Hands the invocation to the snippet thread, which LocalExecutionControl starts from the calling thread. */
    private static final InheritableThreadLocal<Invocation> PENDING = new InheritableThreadLocal<>();
    private static final Method TRAMPOLINE;

    static {
        try {
            TRAMPOLINE = InProcessControl.class.getDeclaredMethod("trampoline");
            TRAMPOLINE.setAccessible(true);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Object lastVar;
    private volatile Around around;

    InProcessControl(ClassLoader parent) {
        super(parent);
    }

    @Override
    public String varValue(String className, String varName) throws RunException, EngineTerminationException, InternalException {
        try {
            Field f = findClass(className).getDeclaredField(varName);
            f.setAccessible(true);
            Object v = f.get(null);
            lastVar = v;
            return valueString(v);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new InternalException("cannot read " + varName + ": " + e);
        }
    }

    /**
     * Reads the static field {@code field} of the loaded class {@code className} and sets it to null (the value
     * is the caller's now; the class keeps no reference to it). Used by {@link DirectExpressions}.
     */
    Object takeStatic(String className, String field) throws InternalException {
        try {
            Field f = findClass(className).getDeclaredField(field);
            f.setAccessible(true);
            Object v = f.get(null);
            f.set(null, null);
            return v;
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new InternalException("cannot read " + className + "." + field + ": " + e);
        }
    }

    /** The static field {@code field} of the loaded class {@code className} (a JShell variable), made accessible; used by {@link SimpleExpressions}. */
    Field staticField(String className, String field) throws InternalException {
        try {
            Field f = findClass(className).getDeclaredField(field);
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            throw new InternalException("cannot find " + className + "." + field + ": " + e);
        }
    }

    /** Sets (null: removes) the code run around every following snippet invocation. */
    void around(Around a) {
        around = a;
    }

    @Override
    protected String invoke(Method doitMethod) throws Exception {
        Around a = around;
        if (a == null) return super.invoke(doitMethod);
        PENDING.set(new Invocation(doitMethod, a));
        try {
            return super.invoke(TRAMPOLINE);
        } finally {
            PENDING.remove();
        }
    }

    /**
     * Runs on the snippet thread in place of the snippet's method: calls {@link Around} with the real
     * body. The body's own exception is rethrown unwrapped, so LocalExecutionControl sees exactly what it
     * would have seen without the wrapper (a user exception, or ThreadDeath after a stop).
     */
    @SuppressWarnings("unused") // called reflectively by LocalExecutionControl
    private static Object trampoline() throws Throwable {
        Invocation inv = PENDING.get();
        PENDING.remove();   // threads the snippet starts do not inherit it
        return inv.around().call(() -> {
            try {
                return inv.doit().invoke(null);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    /** The object read by the last {@link #varValue} call (and forgets it). */
    Object takeVar() {
        Object v = lastVar;
        lastVar = null;
        return v;
    }

    /** Provider handing one {@link InProcessControl} to one JShell. */
    static final class Provider implements ExecutionControlProvider {
        private final ClassLoader parent;
        private volatile InProcessControl control;

        Provider(ClassLoader parent) {
            this.parent = parent;
        }

        @Override
        public String name() {
            return "longconv4j-in-process";
        }

        @Override
        public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) {
            control = new InProcessControl(parent);
            return control;
        }

        InProcessControl control() {
            return control;
        }
    }
}
