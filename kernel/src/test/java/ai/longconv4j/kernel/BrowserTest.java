// Runs the browser test (src/test/browser/quickstart.mjs) from the Maven test phase. No tensor shapes here.
package ai.longconv4j.kernel;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Debian's {@code jupyter-notebook} opened in headless Debian {@code chromium} (driven by {@code playwright-core}
 * from npm): runs all cells of {@code notebooks/01-quickstart.ipynb} through a kernelspec installed into a
 * temporary prefix, asserts a PNG plot and an HTML table appear and no cell fails, and leaves a screenshot at
 * {@code target/browser/quickstart.png} (a CI artifact). The npm package is installed into
 * {@code target/browser-node} from the pinned {@code package.json}/{@code package-lock.json}. Skips, with the
 * reason, when node/npm, chromium or jupyter-notebook are missing (fails instead under
 * {@code LONGCONV4J_REQUIRE_JUPYTER=1}).
 */
class BrowserTest {
    static final Path SCRIPT_DIR = Path.of("src/test/browser");
    static final Path NODE_DIR = Path.of("target/browser-node");
    static final Path SHOT = Path.of("target/browser/quickstart.png");
    static final String NAME = "longconv4j-browser";
    static final String CHROMIUM = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");

    @TempDir
    Path prefix;

    private static boolean runs(String... cmd) {
        try {
            return Child.run(List.of(cmd), Map.of(), null, 60).code() == 0;
        } catch (IOException | InterruptedException | AssertionError e) {
            return false;
        }
    }

    private static void require(boolean ok, String why) {
        if (!ok && Child.REQUIRE_JUPYTER) fail(why + " and LONGCONV4J_REQUIRE_JUPYTER=1");
        Assumptions.assumeTrue(ok, why);
    }

    @Test
    void quickstartRunsInJupyterNotebookInChromium() throws Exception {
        require(runs("node", "--version") && runs("npm", "--version"), "node and npm are needed (apt-get install nodejs npm)");
        require(Files.isExecutable(Path.of(CHROMIUM)), CHROMIUM + " is missing (apt-get install chromium)");
        require(runs("jupyter-notebook", "--version"), "jupyter-notebook is missing (apt-get install jupyter-notebook)");
        Files.createDirectories(NODE_DIR);
        for (String f : List.of("package.json", "package-lock.json", "quickstart.mjs")) {
            Files.copy(SCRIPT_DIR.resolve(f), NODE_DIR.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.isDirectory(NODE_DIR.resolve("node_modules/playwright-core"))) {
            var npm = Child.run(List.of("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"), Map.of(), NODE_DIR, 300);
            require(npm.code() == 0, "npm ci of playwright-core failed (no registry access?):\n" + npm.output());
        }
        Path kernels = prefix.resolve("share/jupyter/kernels/" + NAME);
        Installer.write(kernels, "Java (longconv4j browser test)", List.of("-Xmx1g"),
                List.of("-cp", Child.classPath(), Main.class.getName()), List.of());
        Files.deleteIfExists(SHOT);
        var cmd = new ArrayList<>(List.of("node", NODE_DIR.resolve("quickstart.mjs").toString(), "--repo",
                Path.of("..").toAbsolutePath().normalize().toString(), "--out", SHOT.toAbsolutePath().toString(), "--timeout", "300"));
        var r = Child.run(cmd, Map.of("JUPYTER_PATH", prefix.resolve("share/jupyter").toString(), "LONGCONV4J_KERNEL", NAME,
                "CHROMIUM", CHROMIUM), null, 420);
        System.out.println(r.output());
        assertEquals(0, r.code(), "browser test failed:\n" + r.output());
        assertTrue(r.output().contains("[browser-test] OK"), r.output());
        assertTrue(Files.size(SHOT) > 10_000, "screenshot too small: " + SHOT);
    }
}
