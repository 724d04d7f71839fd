// The JIT helpers: the AOT training workload, the kernelspec's AOT flags, the low-priority warm-up thread. No shapes.
package ai.longconv4j.kernel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class WarmupTest {
    static final boolean LINUX = System.getProperty("os.name", "").toLowerCase().contains("linux");

    @Test
    void trainingCellsAreValidJavaWithTheStartupImports() {
        var log = new ByteArrayOutputStream();
        int failed = AotTraining.run(1, new PrintStream(log, true, StandardCharsets.UTF_8));
        assertEquals(0, failed, "every training cell but the two deliberate failures runs: " + log);
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("round 1/1"), log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void trainingCommandUsesTheKernelsFlagsAndTheCacheFile(@TempDir Path dir) {
        Path cache = dir.resolve("k.aot");
        var cmd = AotTraining.command("java", List.of("-Xmx1g", "-XX:+UseSerialGC"), List.of("-jar", "k.jar"), cache);
        assertEquals(List.of("java", "-Xmx1g", "-XX:+UseSerialGC", "-XX:AOTCacheOutput=" + cache.toAbsolutePath(), "-jar", "k.jar", "aot-train"), cmd);
    }

    @Test
    void failedTrainingLeavesAWorkingKernelspecWithoutTheCache(@TempDir Path dir) throws Exception {
        Path spec = dir.resolve("k");
        var out = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            Installer.write(spec, "k", List.of("-Xmx256m"), List.of("-jar", dir.resolve("missing.jar").toString()), List.of(), true);
        } finally {
            System.setOut(saved);
        }
        String json = Files.readString(spec.resolve("kernel.json"));
        assertFalse(json.contains("AOTCache"), json);
        assertTrue(json.contains(Installer.OPEN_JSHELL) && json.contains("missing.jar"), json);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("AOT cache training failed"), out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void noTrainingWithoutAJarOrWithNoAot(@TempDir Path dir) throws Exception {
        Installer.write(dir.resolve("a"), "a", List.of(), List.of("-cp", "x", "Main"), List.of(), true);
        Installer.write(dir.resolve("b"), "b", List.of(), List.of("-jar", "x.jar"), List.of(), false);
        for (String k : List.of("a", "b")) {
            String json = Files.readString(dir.resolve(k).resolve("kernel.json"));
            assertFalse(json.contains("AOTCache") || json.contains("SharedArchiveFile"), json);
            assertFalse(Files.exists(dir.resolve(k).resolve(Installer.AOT_CACHE)));
        }
    }

    @Test
    void warmupThreadRunsAtNice19AndOnlyThatThread() throws Exception {
        assumeTrue(LINUX, "thread priorities are lowered on Linux only");
        int mine = Warmup.niceOfThisThread();
        var seen = new AtomicInteger(Integer.MIN_VALUE);
        var lowered = new AtomicBoolean();
        Thread t = new Thread(() -> {
            lowered.set(Warmup.lowerPriority());
            seen.set(Warmup.niceOfThisThread());
        });
        t.start();
        t.join();
        assertTrue(lowered.get(), "setpriority on this thread");
        assertEquals(Warmup.NICE, seen.get());
        assertEquals(mine, Warmup.niceOfThisThread(), "the calling thread keeps its priority");
        assertNotEquals(Warmup.NICE, mine, "negative control: the test thread does not start at nice 19");
    }

    @Test
    void warmupStopsWhenAsked() throws Exception {
        Thread t = Warmup.start(() -> true);
        t.join(60_000);
        assertFalse(t.isAlive(), "the warm-up checks its stop flag before each snippet");
    }
}
