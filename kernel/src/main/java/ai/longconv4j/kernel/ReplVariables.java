// A JShell's valid variables by name, with their declared types and current values, for SimpleExpressions. No shapes.
package ai.longconv4j.kernel;

import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.VarSnippet;
import jdk.jshell.spi.ExecutionControl;

import java.lang.reflect.Method;
import java.util.function.Function;

/**
 * Looks a name up among a JShell's variables as an expression would see it, and reads the variable's field in
 * JShell's wrapper class (loaded in this JVM by {@link InProcessControl}): its declared type is the field's type,
 * its value the field's. Needs JShell's package-private {@code Snippet.classFullName()} and
 * {@code VarSnippet.fieldName()} ({@code --add-opens jdk.jshell/jdk.jshell=ALL-UNNAMED}); without them every name
 * is unknown, so {@link SimpleExpressions} takes literals only.
 */
final class ReplVariables implements Function<String, SimpleExpressions.Variable> {
    private final JShell shell;
    private final InProcessControl.Provider provider;
    private final Method varClass, varField;

    ReplVariables(JShell shell, InProcessControl.Provider provider) {
        this.shell = shell;
        this.provider = provider;
        Method vc = null, vf = null;
        try {
            vc = Snippet.class.getDeclaredMethod("classFullName");
            vf = VarSnippet.class.getDeclaredMethod("fieldName");
            vc.setAccessible(true);
            vf.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {   // no --add-opens jdk.jshell/jdk.jshell
            vc = null;
        }
        varClass = vc;
        varField = vf;
    }

    /**
     * The valid variable named {@code name} with its declared type and current value; null when there is none, when a
     * static import of the same name is in effect (javac would report the clash), or without access to JShell's internals.
     */
    @Override
    public SimpleExpressions.Variable apply(String name) {
        if (varClass == null) return null;
        VarSnippet found = null;
        for (var it = shell.variables().iterator(); it.hasNext(); ) {
            VarSnippet v = it.next();
            if (v.name().equals(name)) found = v;
        }
        if (found == null || shell.status(found) != Snippet.Status.VALID) return null;
        for (var it = shell.imports().iterator(); it.hasNext(); ) {
            var imp = it.next();
            if (imp.isStatic() && imp.name().equals(name)) return null;
        }
        try {
            var f = provider.control().staticField((String) varClass.invoke(found), (String) varField.invoke(found));
            return new SimpleExpressions.Variable(f.getType(), f.get(null));
        } catch (ReflectiveOperationException | ExecutionControl.InternalException | RuntimeException | LinkageError e) {
            return null;
        }
    }
}
