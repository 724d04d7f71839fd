// Test helper: child processes (kernel JVMs, python) with the test class path. No tensor shapes here.
package ai.longconv4j.kernel;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/** Starting child processes from tests. */
final class Child {
    /** Set by .ci/run: Jupyter-dependent tests fail instead of skipping when it is missing. */
    static final boolean REQUIRE_JUPYTER = "1".equals(System.getenv("LONGCONV4J_REQUIRE_JUPYTER"));
    static final String PYTHON = System.getenv().getOrDefault("LONGCONV4J_PYTHON", "/usr/bin/python3");

    private Child() { }

    /** The test JVM's real class path (surefire hides it behind a manifest jar). */
    static String classPath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** {@code java -cp CP ai.longconv4j.kernel.Main args...}. */
    static List<String> main(String... args) {
        var cmd = new ArrayList<>(List.of(java(), "-Xmx512m", "--enable-native-access=ALL-UNNAMED", Installer.OPEN_JSHELL));
        cmd.addAll(DirectExpressions.JVM_FLAGS);
        cmd.addAll(List.of("-cp", classPath(), Main.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    record Result(int code, String output) { }

    static Result run(List<String> cmd, Map<String, String> env, Path dir, long timeoutS) throws IOException, InterruptedException {
        var pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        if (dir != null) pb.directory(dir.toFile());
        Process p = pb.start();
        var out = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // process gone
            }
        });
        if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            reader.join(2000);
            fail("timed out after " + timeoutS + " s: " + String.join(" ", cmd) + "\n" + out);
        }
        reader.join();
        return new Result(p.exitValue(), out.toString());
    }

    /** Skips (or fails under LONGCONV4J_REQUIRE_JUPYTER=1) unless python has the given modules. */
    static void requirePython(String... modules) throws IOException, InterruptedException {
        String probe = "import " + String.join(", ", modules);
        boolean ok;
        try {
            ok = run(List.of(PYTHON, "-c", probe), Map.of(), null, 60).code() == 0;
        } catch (IOException e) {
            ok = false;
        }
        String why = PYTHON + " cannot `" + probe + "` (install python3-nbclient jupyter-client python3-jupyter-kernel-test jupyter-nbconvert python3-ipykernel)";
        if (!ok && REQUIRE_JUPYTER) fail(why + " and LONGCONV4J_REQUIRE_JUPYTER=1");
        Assumptions.assumeTrue(ok, why);
    }
}
