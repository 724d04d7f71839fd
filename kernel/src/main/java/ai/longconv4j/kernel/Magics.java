// Line and cell magics (%maven, %%time, %timeit, %classpath, %load, %imports, %device, %%profile, %env). No shapes.
package ai.longconv4j.kernel;

import tech.tablesaw.api.Table;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** The magics of a {@link Session}. Each returns a {@link CellResult}; output goes to the cell's streams. */
final class Magics {
    private static final List<String> LINE = List.of("classpath", "device", "env", "imports", "load", "lsmagic", "maven", "timeit");
    private static final List<String> CELL = List.of("profile", "time", "timeit");
    /** %timeit grows the loop count by 10x until one run takes at least this long. */
    private static final double TIMEIT_MIN_RUN_S = 0.2;
    private static final int TIMEIT_REPEATS = 5;

    private final Session session;

    Magics(Session session) {
        this.session = session;
    }

    List<String> names() {
        var out = new ArrayList<String>();
        LINE.forEach(n -> out.add("%" + n));
        CELL.forEach(n -> out.add("%%" + n));
        return out;
    }

    private CellResult unknown(String prefix, String name) {
        String v = "unknown magic " + prefix + name + "; line magics: %" + String.join(", %", LINE)
                + "; cell magics: %%" + String.join(", %%", CELL);
        return CellResult.failed("UnknownMagic", v, List.of("UnknownMagic: " + v));
    }

    private static CellResult fail(String magic, String msg) {
        return CellResult.failed("MagicError", "%" + magic + ": " + msg, List.of("MagicError: %" + magic + ": " + msg));
    }

    CellResult line(String name, String args, CellOutput out) {
        Engine e = session.engine();
        try {
            switch (name) {
                case "lsmagic" -> out.stream("stdout", "line magics: " + String.join(" ", names().stream().filter(n -> !n.startsWith("%%")).toList())
                        + "\ncell magics: " + String.join(" ", names().stream().filter(n -> n.startsWith("%%")).toList()) + "\n");
                case "imports" -> out.stream("stdout", String.join("\n", e.imports()) + "\n");
                case "classpath" -> {
                    if (args.isBlank()) {
                        var all = new ArrayList<>(Engine.classPath());
                        all.addAll(e.addedClassPath());
                        out.stream("stdout", String.join("\n", all) + "\n");
                    } else {
                        for (String a : split(args)) for (Path p : expand(a)) {
                            if (!Files.exists(p)) return fail(name, "no such file or directory: " + p);
                            e.addToClasspath(p.toAbsolutePath().toString());
                            out.stream("stdout", "added " + p + "\n");
                        }
                    }
                }
                case "maven" -> {
                    var coords = new ArrayList<String>();
                    var repos = new ArrayList<String>();
                    var it = split(args).iterator();
                    while (it.hasNext()) {
                        String a = it.next();
                        if (a.equals("--repo") && it.hasNext()) repos.add(it.next());
                        else coords.add(a);
                    }
                    if (coords.isEmpty()) return fail(name, "usage: %maven [--repo URL] group:artifact:version ...");
                    List<Path> jars = MavenResolver.resolve(coords, repos);
                    for (Path j : jars) e.addToClasspath(j.toString());
                    out.stream("stdout", "added " + jars.size() + " jar(s): "
                            + String.join(", ", jars.stream().map(p -> p.getFileName().toString()).toList()) + "\n");
                }
                case "load" -> {
                    if (args.isBlank()) return fail(name, "usage: %load FILE.jsh|FILE.java");
                    Path p = Path.of(args.strip().replaceFirst("^~", System.getProperty("user.home")));
                    if (!Files.isRegularFile(p)) return fail(name, "no such file: " + p);
                    return session.execute(Files.readString(p), out);
                }
                case "device" -> {
                    if (args.isBlank()) out.stream("stdout", Devices.report());
                    else {
                        try {
                            var d = Devices.select(args);
                            out.stream("stdout", "device for Tensor ops: " + d + " ("
                                    + (d.isCpu() ? Devices.cpu() : String.join("; ", Devices.gpu()).replaceAll("\\s+", " ")) + ")\n");
                        } catch (IllegalArgumentException bad) {
                            return fail(name, bad.getMessage());
                        }
                    }
                }
                case "env" -> {
                    if (args.isBlank()) {
                        var sb = new StringBuilder();
                        new TreeMap<>(System.getenv()).forEach((k, v) -> sb.append(k).append('=').append(secret(k) ? "<hidden>" : v).append('\n'));
                        out.stream("stdout", sb.toString());
                    } else if (args.contains("=")) {
                        return fail(name, "a running JVM cannot change its environment; set it when installing "
                                + "(install --env NAME=VALUE) or use System.setProperty");
                    } else out.stream("stdout", String.valueOf(System.getenv(args.strip())) + "\n");
                }
                case "timeit" -> timeit(args, out);
                default -> {
                    return unknown("%", name);
                }
            }
            return CellResult.ok(null);
        } catch (Exception ex) {
            return fail(name, ex.getClass().getSimpleName() + ": " + ex.getMessage());
        }
    }

    private static boolean secret(String envName) {
        String u = envName.toUpperCase();
        return u.contains("KEY") || u.contains("SECRET") || u.contains("TOKEN") || u.contains("PASSWORD");
    }

    CellResult cell(String name, String args, String body, CellOutput out) {
        switch (name) {
            case "time" -> {
                long cpu0 = processCpu(), t0 = System.nanoTime();
                CellResult r = session.execute(body, out);
                double wall = (System.nanoTime() - t0) / 1e6, cpu = (processCpu() - cpu0) / 1e6;
                out.stream("stdout", String.format("Wall time: %s, CPU time (process): %s%n", ms(wall), ms(cpu)));
                return r;
            }
            case "timeit" -> {
                try {
                    timeit(body, out);
                    return CellResult.ok(null);
                } catch (Exception ex) {
                    return fail(name, ex.getMessage());
                }
            }
            case "profile" -> {
                var prof = new CellProfiler();
                long[] snippetNanos = {0};
                Engine e = session.engine();
                e.around(prof);
                CellResult r;
                try {
                    r = session.execute(body, out, (s, nanos) -> snippetNanos[0] += nanos);
                } finally {
                    e.around(null);
                }
                double runMs = prof.runNanos() / 1e6;
                Table t = prof.table().setName(String.format("profile (%d snippet(s): %s running, %s compiling)",
                        prof.snippets(), ms(runMs), ms(Math.max(0, snippetNanos[0] / 1e6 - runMs))));
                out.display(Rendering.render(t), false);
                return r;
            }
            default -> {
                return unknown("%%", name);
            }
        }
    }

    /** %timeit [-n N] [-r R] code: compiles the code once as a lambda, then times N loops, R times. */
    private void timeit(String args, CellOutput out) throws Exception {
        int n = -1, r = TIMEIT_REPEATS;
        String code = args.strip();
        while (code.startsWith("-n ") || code.startsWith("-r ")) {
            String[] p = code.split("\\s+", 3);
            if (p.length < 3) throw new IllegalArgumentException("usage: %timeit [-n N] [-r R] CODE");
            if (p[0].equals("-n")) n = Integer.parseInt(p[1]);
            else r = Integer.parseInt(p[1]);
            code = p[2].strip();
        }
        if (code.isEmpty()) throw new IllegalArgumentException("usage: %timeit [-n N] [-r R] CODE");
        Engine e = session.engine();
        String body = code.endsWith(";") ? code.substring(0, code.length() - 1) : code;
        Engine.Eval ev = e.value("(Runnable) () -> { " + body + "; }");
        if (ev.error() != null) ev = e.value("(Runnable) () -> { Object __timeit = (" + body + "); }");
        if (ev.error() != null) throw new IllegalArgumentException(ev.error().evalue());
        Runnable task = (Runnable) ev.value();
        int loops = n;
        int repeats = r;
        double[] perLoop = session.runInterruptibly(() -> {
            int l = loops;
            if (l < 0) {
                l = 1;
                while (l < 1_000_000_000 && time(task, l) < TIMEIT_MIN_RUN_S) l *= 10;
            }
            double[] res = new double[repeats + 1];
            for (int i = 0; i < repeats; i++) {
                if (Thread.currentThread().isInterrupted()) throw new InterruptedException("%timeit interrupted");
                res[i] = time(task, l) / l;
            }
            res[repeats] = l;
            return res;
        });
        double mean = 0, best = Double.MAX_VALUE;
        for (int i = 0; i < r; i++) {
            mean += perLoop[i] / r;
            best = Math.min(best, perLoop[i]);
        }
        double var = 0;
        for (int i = 0; i < r; i++) var += (perLoop[i] - mean) * (perLoop[i] - mean) / Math.max(1, r - 1);
        out.stream("stdout", String.format("%s ± %s per loop (mean ± std. dev. of %d runs, %d loops each; best %s)%n",
                ms(mean * 1e3), ms(Math.sqrt(var) * 1e3), r, (long) perLoop[r], ms(best * 1e3)));
    }

    private static double time(Runnable task, int loops) {
        long t0 = System.nanoTime();
        for (int i = 0; i < loops; i++) task.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Milliseconds with a unit that keeps 3 significant digits. */
    static String ms(double ms) {
        if (ms >= 1000) return String.format("%.3g s", ms / 1000);
        if (ms >= 1) return String.format("%.3g ms", ms);
        if (ms >= 1e-3) return String.format("%.3g µs", ms * 1e3);
        return String.format("%.3g ns", ms * 1e6);
    }

    private static long processCpu() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : 0;
    }

    private static List<String> split(String args) {
        return Stream.of(args.strip().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }

    /** A path, with {@code ~} expanded and a trailing {@code *} meaning all jars in the directory. */
    private static List<Path> expand(String arg) throws IOException {
        String a = arg.replaceFirst("^~", System.getProperty("user.home"));
        if (a.endsWith("*")) {
            Path dir = Path.of(a.substring(0, a.length() - 1));
            try (var s = Files.list(dir)) {
                return s.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
            }
        }
        return List.of(Path.of(a));
    }

    /** For tests: the magic names by kind. */
    static Map<String, List<String>> catalog() {
        return Map.of("line", LINE, "cell", CELL);
    }
}
