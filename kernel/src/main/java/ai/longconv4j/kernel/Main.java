// Command line of the kernel jar: kernel, install, uninstall, run, jshell. No tensor shapes here.
package ai.longconv4j.kernel;

import ai.longconv4j.kernel.wire.ConnectionInfo;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * {@code java -jar longconv4j-kernel.jar COMMAND ...}
 * <pre>
 *   kernel CONNECTION_FILE        run as a Jupyter kernel (what kernel.json starts)
 *   install [--user | --prefix DIR] [--name NAME] [--display-name TEXT] [--jvm-opts "OPTS"] [--env NAME=VALUE]... [--no-aot]
 *   uninstall [--user | --prefix DIR] [--name NAME]
 *   run NOTEBOOK.ipynb [--out FILE] [--timeout SECONDS] [--allow-errors]
 *   jshell [--script] [FILE.jsh ...] [jshell options]   the JDK's jshell with the library and the imports
 * </pre>
 */
public final class Main {
    /** Version shown in kernel_info. */
    public static final String VERSION = "0.1.0";

    private Main() { }

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        Log.debug("longconv4j-kernel " + VERSION); // binds the log to the JVM's own stderr before it is routed
        if (args.length == 0) {
            usage();
            System.exit(2);
        }
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        int code = switch (args[0]) {
            case "kernel" -> {
                String file = rest.isEmpty() ? null : rest.getFirst().equals("-f") && rest.size() > 1 ? rest.get(1) : rest.getFirst();
                if (file == null) throw new IllegalArgumentException("kernel: expected a connection file");
                yield kernel(Path.of(file));
            }
            case "install" -> Installer.install(rest);
            case "uninstall" -> Installer.uninstall(rest);
            case "run" -> NotebookRunner.main(rest);
            case "jshell" -> JShellLauncher.launch(rest);
            case "aot-train" -> AotTraining.main(rest);   // run by install in a -XX:AOTCacheOutput child JVM
            case "--version", "version" -> {
                System.out.println("longconv4j-kernel " + VERSION + " (Java " + Runtime.version() + ")");
                yield 0;
            }
            default -> {
                usage();
                yield 2;
            }
        };
        System.out.flush();
        System.exit(code);
    }

    private static int kernel(Path connectionFile) throws Exception {
        ConnectionInfo info = ConnectionInfo.read(connectionFile);
        var router = new StreamRouter();
        router.install();
        long warmupMs = Long.getLong("longconv4j.warmup.ms", 0);   // off by default: see startWarmupDeadline
        var session = warmupMs > 0 ? new Session(START_WARMUP_CELLS, startWarmupDeadline(warmupMs)) : new Session();
        // off by default: measured on a loaded 2-core machine it cost more than it saved (kernel/BENCHMARKS.md)
        if ("true".equals(System.getProperty("longconv4j.warmup"))) session.warmUpInBackground();
        new KernelServer(info, session, router).serve();
        return 0;
    }

    /** Most warm-up cells before the kernel answers its first kernel_info_request (about four rounds of AotTraining.CELLS). */
    static final int START_WARMUP_CELLS = 100;

    /**
     * When the opt-in start-up warm-up ({@code -Dlongconv4j.warmup.ms=MS}) stops: MS after this JVM
     * started, so a slow (loaded) start warms up less. Off by default: cold cells cost ~200 ms each on a
     * loaded machine, so a budget that keeps the start within ~2.5x ipykernel's runs only ~10 of them,
     * too few to change the next hundreds of cells (kernel/BENCHMARKS.md, 2026-11-29 late).
     */
    static long startWarmupDeadline(long ms) {
        long sinceStart = ProcessHandle.current().info().startInstant()
                .map(t -> java.time.Duration.between(t, java.time.Instant.now()).toNanos()).orElse(0L);
        return System.nanoTime() - sinceStart + ms * 1_000_000;
    }

    private static void usage() {
        System.err.println("""
                usage: java -jar longconv4j-kernel.jar COMMAND
                  kernel CONNECTION_FILE
                  install [--user | --prefix DIR] [--name NAME] [--display-name TEXT] [--jvm-opts "OPTS"] [--env NAME=VALUE]... [--no-aot]
                  uninstall [--user | --prefix DIR] [--name NAME]
                  run NOTEBOOK.ipynb [--out FILE] [--timeout SECONDS] [--allow-errors]
                  jshell [--script] [FILE.jsh ...]""");
    }
}
