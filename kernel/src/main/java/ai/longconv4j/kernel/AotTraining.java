// The training run behind the kernelspec's AOT cache (JDK 25, JEP 483/514/515). Tensors here are tiny (2x3, 4x4).
package ai.longconv4j.kernel;


import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code install} runs once, in a child JVM started with {@code -XX:AOTCacheOutput=FILE} and the
 * kernel's own flags: a session evaluating a mix of ordinary cells (expressions, declarations,
 * redefinitions, methods, records, lambdas and streams, imports, a failing cell, small tensors and
 * tables rendered) plus completion and {@code is_complete} requests, {@link #ROUNDS} times. The JVM
 * then writes the classes it loaded and linked and the method profiles it gathered into the cache;
 * kernels started with {@code -XX:AOTCache=FILE} load javac, JShell and the library from it and their
 * JIT compiles javac's hot methods from those profiles, so the first cells reach full speed sooner.
 * Nothing here is specific to a benchmark cell: it is javac's and the kernel's common paths.
 */
final class AotTraining {
    /** Rounds over {@link #CELLS}: enough for javac's hot methods to reach the optimizing compiler. */
    static final int ROUNDS = 12;

    /** One round of cells; {@code %d} is replaced by the round number so no two rounds are identical. */
    static final List<String> CELLS = List.of(
            "1 + %d",
            "int a%d = 6 * 7;",
            "a%d * 2 + Math.max(3, 4)",
            "String s = \"round %d\"; s.length()",
            "double twice(double x) { return 2 * x + %d; }",
            "twice(1.5)",
            "record Point(int x, int y) { int norm1() { return Math.abs(x) + Math.abs(y); } }",
            "var pts = new ArrayList<Point>(); for (int i = 0; i < 10; i++) pts.add(new Point(i, -i)); pts.size()",
            "pts.stream().mapToInt(Point::norm1).sum() + %d",
            "var m = new HashMap<String, Integer>(); m.put(\"k\", %d); m",
            "List.of(3, 1, 2).stream().sorted().map(x -> x * %d).toList()",
            "import java.util.concurrent.atomic.AtomicLong;",
            "var counter = new AtomicLong(%d); counter.incrementAndGet()",
            "class Acc { long total; void add(long v) { total += v; } } var acc = new Acc(); acc.add(%d); acc.total",
            "IntStream.range(0, 100).filter(i -> i %% 7 == 0).count()",
            "String.format(\"%%.3f\", Math.sin(%d))",
            "var t = Tensor.ones(DType.F32, 2, 3).mul(%d); t",
            "Tensor.arange(16, DType.F64).reshape(4, 4).sum(1, false)",
            "var table = Table.create(\"t\").addColumns(DoubleColumn.create(\"x\", new double[]{1, 2, %d})); table",
            "var sb = new StringBuilder(); for (int i = 0; i < 3; i++) { sb.append(\"line \").append(i + %d); } sb",
            "Optional.ofNullable(null).orElse(\"none %d\")",
            "int undefinedUse = notDeclared%d + 1;",
            "throw new IllegalStateException(\"training %d\");",
            "System.getProperty(\"java.version\") != null");

    /** Prefixes completed after each round (Tab in a notebook). */
    static final List<String> COMPLETIONS = List.of("Tensor.o", "pts.str", "Math.ma", "var q = new Arr", "Str");

    private AotTraining() { }

    /** Runs the workload in this JVM; {@code out} receives one line per round. */
    static int run(int rounds, java.io.PrintStream log) {
        var sink = CellOutput.discarding("no input during training");
        int failed = 0;
        try (var session = new Session()) {
            Engine e = session.engine();
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                for (String cell : CELLS) {
                    CellResult res = session.execute(cell.formatted(r), sink);
                    if (!res.ok() && !cell.contains("notDeclared") && !cell.startsWith("throw")) failed++;
                    e.isComplete(cell.formatted(r));
                }
                for (String c : COMPLETIONS) e.complete(c, c.length());
                log.printf("aot training: round %d/%d, %.1f s%n", r + 1, rounds, (System.nanoTime() - t0) / 1e9);
            }
        }
        return failed;
    }

    /** Entry point of the training JVM ({@code Main aot-train}): exit 0 when every expected cell ran. */
    static int main(List<String> args) {
        int rounds = args.isEmpty() ? ROUNDS : Integer.parseInt(args.getFirst());
        int failed = run(rounds, System.out);
        if (failed > 0) System.err.println("aot training: " + failed + " cells failed that should not");
        return failed == 0 ? 0 : 1;
    }

    /**
     * The command that trains the cache {@code cache} for a kernel started with {@code jvmFlags} and
     * {@code launch} (the same flags: a cache only serves a JVM configured like the one that made it).
     */
    static List<String> command(String java, List<String> jvmFlags, List<String> launch, Path cache) {
        var cmd = new ArrayList<String>();
        cmd.add(java);
        cmd.addAll(jvmFlags);
        cmd.add("-XX:AOTCacheOutput=" + cache.toAbsolutePath());
        cmd.addAll(launch);
        cmd.add("aot-train");
        return cmd;
    }

    /** Runs the training child; true when it exited 0 and left a cache file. Its output goes to ours. */
    static boolean train(String java, List<String> jvmFlags, List<String> launch, Path cache) throws IOException {
        Files.deleteIfExists(cache);
        var pb = new ProcessBuilder(command(java, jvmFlags, launch, cache)).inheritIO();
        try {
            int code = pb.start().waitFor();
            return code == 0 && Files.isRegularFile(cache) && Files.size(cache) > 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
