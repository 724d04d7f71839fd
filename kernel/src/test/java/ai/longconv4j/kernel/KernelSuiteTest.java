// Real Jupyter clients (jupyter_kernel_test, jupyter_client, nbclient, nbconvert) against the kernel. No shapes.
package ai.longconv4j.kernel;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Installs a kernelspec (with a 512 MB heap, for the OutOfMemoryError scenario) into a temporary
 * prefix and runs the python test modules of src/test/python against it with /usr/bin/python3.
 */
class KernelSuiteTest {
    static final String NAME = "longconv4j-test";
    @TempDir
    static Path prefix;
    static Path python = Path.of("src/test/python");

    @BeforeAll
    static void installKernelspec() throws Exception {
        Child.requirePython("jupyter_client", "jupyter_kernel_test", "nbclient", "nbconvert", "nbformat", "zmq");
        Installer.write(prefix.resolve("share/jupyter/kernels/" + NAME), "Java (longconv4j test)", List.of("-Xmx512m"),
                List.of("-cp", Child.classPath(), Main.class.getName()), List.of());
    }

    private static void unittest(String module, long timeoutS) throws Exception {
        var env = Map.of("JUPYTER_PATH", prefix.resolve("share/jupyter").toString(), "LONGCONV4J_KERNEL", NAME,
                "JUPYTER_PLATFORM_DIRS", "1", "PYTHONDONTWRITEBYTECODE", "1");
        var r = Child.run(List.of(Child.PYTHON, "-m", "unittest", "-v", module), env, python, timeoutS);
        System.out.println(r.output());
        assertEquals(0, r.code(), module + " failed:\n" + r.output());
        assertTrue(r.output().contains("OK"), r.output());
    }

    @Test
    void conformanceWithJupyterKernelTest() throws Exception {
        unittest("kernel_conformance", 240);
    }

    @Test
    void scenariosWithJupyterClient() throws Exception {
        unittest("kernel_scenarios", 300);
    }

    @Test
    void notebookThroughNbclientAndNbconvert() throws Exception {
        unittest("notebook_nbclient", 300);
    }

    @Test
    void kernelspecHasTheRightLaunchFlags() throws Exception {
        String spec = Files.readString(prefix.resolve("share/jupyter/kernels/" + NAME + "/kernel.json"));
        assertTrue(spec.contains("\"interrupt_mode\": \"message\""), spec);
        assertTrue(spec.contains("--enable-native-access=ALL-UNNAMED"), spec);
        assertTrue(spec.contains(Installer.OPEN_JSHELL), spec);
        for (String f : DirectExpressions.JVM_FLAGS) assertTrue(spec.contains(f), spec);
        assertTrue(spec.contains("-Xmx512m") && !spec.contains(Installer.DEFAULT_HEAP), "an explicit heap replaces the default: " + spec);
        assertTrue(spec.contains(Child.java().replace("\\", "\\\\")) || spec.contains(ProcessHandle.current().info().command().orElse("?")), spec);
        assertTrue(Files.size(prefix.resolve("share/jupyter/kernels/" + NAME + "/logo-64x64.png")) > 100);
    }
}
