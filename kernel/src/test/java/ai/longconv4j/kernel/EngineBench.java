// In-process cost of expression cells: the direct path (DirectExpressions) against JShell's value path. No shapes.
package ai.longconv4j.kernel;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * Times {@code Engine.eval} of an expression cell in a loop, in this JVM: the calling thread's CPU, the process's
 * CPU (JIT and GC threads included) and the wall time per cell, in windows of cells. Not a test; run it with the
 * kernel's JVM flags (see kernel/BENCHMARKS.md):
 * <pre>
 * java -XX:+UseSerialGC --add-modules=jdk.incubator.vector --add-opens=jdk.jshell/jdk.jshell=ALL-UNNAMED \
 *   --add-exports=jdk.compiler/com.sun.tools.javac.{api,util}=ALL-UNNAMED --add-opens=jdk.compiler/com.sun.tools.javac.code=ALL-UNNAMED \
 *   -cp kernel/target/test-classes:kernel/target/classes:kernel/target/lib/* ai.longconv4j.kernel.EngineBench direct 1000 200 "x + 1"
 * </pre>
 * Arguments: {@code direct} or {@code jshell} (JShell's {@code Object $lc4jValueN = (EXPR);} path), cells, window, expression.
 */
public final class EngineBench {
    private EngineBench() { }

    public static void main(String[] args) {
        boolean direct = args[0].equals("direct");
        int n = Integer.parseInt(args[1]);
        int window = Integer.parseInt(args[2]);
        String cell = args.length > 3 ? args[3] : "x + 1";
        var threads = ManagementFactory.getThreadMXBean();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (var e = new Engine(true, true, direct)) {
            e.eval("var x = 3;", 1, w -> { });
            double[] wall = new double[window];
            long t0 = threads.getCurrentThreadCpuTime();
            long p0 = os.getProcessCpuTime();
            for (int i = 0; i < n; i++) {
                long w0 = System.nanoTime();
                Engine.Eval r = e.eval(cell, 1, w -> { });
                if (r.error() != null) throw new IllegalStateException(String.join("\n", r.error().traceback()));
                wall[i % window] = (System.nanoTime() - w0) / 1e6;
                if ((i + 1) % window == 0) {
                    long t1 = threads.getCurrentThreadCpuTime();
                    long p1 = os.getProcessCpuTime();
                    double[] sorted = wall.clone();
                    Arrays.sort(sorted);
                    System.out.printf("%s cells %4d-%4d: thread CPU %6.2f ms/cell, process CPU %6.2f ms/cell, wall median %6.2f ms   (%s)%n",
                            args[0], i + 1 - window, i + 1, (t1 - t0) / 1e6 / window, (p1 - p0) / 1e6 / window, sorted[window / 2],
                            direct ? "direct " + Arrays.toString(e.directExpressions()) : "value declarations " + Arrays.toString(e.valueDeclarations()));
                    t0 = t1;
                    p0 = p1;
                }
            }
        }
    }
}
