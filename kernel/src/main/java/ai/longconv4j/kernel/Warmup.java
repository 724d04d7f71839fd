// Background JIT warm-up of javac in a throwaway JShell, at the lowest OS priority. Tensors here are tiny (see AotTraining).
package ai.longconv4j.kernel;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Every cell runs javac (about five compiler tasks per snippet), and javac is slow until the JIT has
 * compiled its hot methods: a kernel's first few hundred cells cost 2–4x the CPU of later ones.
 * This warm-up evaluates {@link AotTraining#CELLS} in a second, throwaway {@link Engine} on a daemon
 * thread whose Linux nice value is 19, so it only gets CPU time nothing else wants (a real cell always
 * wins), and stops after {@link #ROUNDS} rounds or when the session closes; then its JShell is closed
 * and collected. Only where the thread's priority can be lowered (Linux, native access enabled):
 * elsewhere it does not run at all.
 */
final class Warmup {
    /** Rounds over {@link AotTraining#CELLS} (~25 snippets each). */
    static final int ROUNDS = 8;
    /** The nice value of the warm-up thread: the lowest priority. */
    static final int NICE = 19;

    private Warmup() { }

    /** Starts the warm-up thread unless the OS priority cannot be lowered; returns it (null when not started). */
    static Thread start(java.util.function.BooleanSupplier stop) {
        Thread t = new Thread(() -> {
            if (!lowerPriority()) {
                Log.debug("javac warm-up skipped: cannot lower the thread's priority here");
                return;
            }
            if (stop.getAsBoolean()) return;
            long t0 = System.nanoTime();
            int done = 0;
            try (var e = new Engine()) {
                for (int r = 0; r < ROUNDS && !stop.getAsBoolean(); r++, done++) {
                    for (String cell : AotTraining.CELLS) {
                        if (stop.getAsBoolean()) break;
                        e.eval(cell.formatted(r), 1, w -> { });
                    }
                }
            } catch (Throwable ex) {   // OutOfMemoryError in a small heap, anything: the warm-up is optional
                Log.debug("javac warm-up stopped: " + ex);
            }
            Log.debug("javac warm-up: " + done + " rounds in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        }, "javac-warmup");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** setpriority(PRIO_PROCESS, gettid(), 19) on Linux (affects this thread only); false where that is not possible. */
    static boolean lowerPriority() {
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) return false;
        try {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            MethodHandle gettid = linker.downcallHandle(libc.find("gettid").orElseThrow(), FunctionDescriptor.of(JAVA_INT));
            MethodHandle setpriority = linker.downcallHandle(libc.find("setpriority").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
            int tid = (int) gettid.invokeExact();
            return (int) setpriority.invokeExact(0, tid, NICE) == 0;   // 0 = PRIO_PROCESS: with a thread id, that thread
        } catch (Throwable e) {   // no native access, no such symbol
            return false;
        }
    }

    /** This thread's nice value from /proc (Linux), for tests; Integer.MIN_VALUE when unknown. */
    static int niceOfThisThread() {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle gettid = linker.downcallHandle(linker.defaultLookup().find("gettid").orElseThrow(), FunctionDescriptor.of(JAVA_INT));
            int tid = (int) gettid.invokeExact();
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/task/" + tid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Integer.parseInt(f[16]);   // field 19 of stat: nice (fields counted after the command name)
        } catch (Throwable e) {
            return Integer.MIN_VALUE;
        }
    }
}
