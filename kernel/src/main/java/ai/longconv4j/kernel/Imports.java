// The startup imports of every kernel and of the JShell launcher. No tensor shapes here.
package ai.longconv4j.kernel;

import java.util.ArrayList;
import java.util.List;

/**
 * The imports every session starts with (shown by {@code %imports}): common JDK packages, the
 * library's packages that exist on the class path, Tablesaw and XChart, and the notebook helpers
 * ({@code display}, {@code updateDisplay}, {@code progress}, {@code input}).
 */
public final class Imports {
    /** Library packages, imported when present. */
    static final List<String> LIBRARY = List.of("ai.longconv4j.tensor",
            "ai.longconv4j.backend", "ai.longconv4j.backend.cpu", "ai.longconv4j.conv", "ai.longconv4j.nn",
            "ai.longconv4j.models", "ai.longconv4j.io", "ai.longconv4j.optim", "ai.longconv4j.train", "ai.longconv4j.data",
            "ai.longconv4j.profile");

    private Imports() { }

    /** The import statements, one per line, that resolve against {@code loader}. */
    public static List<String> startup(ClassLoader loader) {
        var out = new ArrayList<String>();
        for (String p : List.of("java.util", "java.util.function", "java.util.stream", "java.io", "java.nio.file",
                "java.time", "java.util.random")) out.add("import " + p + ".*;");
        out.add("import java.awt.image.BufferedImage;");
        for (String p : LIBRARY) {
            if (loader.getResource(p.replace('.', '/') + "/") != null) out.add("import " + p + ".*;");
        }
        if (loader.getResource("tech/tablesaw/api/Table.class") != null) {
            out.add("import tech.tablesaw.api.*;");
            out.add("import tech.tablesaw.columns.numbers.*;");
        }
        if (loader.getResource("org/knowm/xchart/XYChart.class") != null) out.add("import org.knowm.xchart.*;");
        out.add("import ai.longconv4j.kernel.ProgressBar;");
        out.add("import static ai.longconv4j.kernel.Notebook.*;");
        return out;
    }
}
