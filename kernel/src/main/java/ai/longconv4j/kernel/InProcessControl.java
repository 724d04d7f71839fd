// JShell execution engine inside the kernel's JVM that keeps variable values as live objects. No tensor shapes.
package ai.longconv4j.kernel;

import jdk.jshell.execution.LocalExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

import java.lang.reflect.Field;
import java.util.Map;

/**
 * In-process execution for JShell. Snippets run in this JVM through {@link LocalExecutionControl}
 * (its own thread per invocation, its stop-check instrumentation, so {@code JShell.stop()} ends
 * tight snippet loops and interrupts sleeps). On top of it, {@link #varValue} keeps the live object
 * of the variable JShell asks for, so the kernel can render the value of a cell's last expression
 * (JShell stores each expression's value in a temporary variable {@code $N}).
 */
final class InProcessControl extends LocalExecutionControl {
    private Object lastVar;

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
