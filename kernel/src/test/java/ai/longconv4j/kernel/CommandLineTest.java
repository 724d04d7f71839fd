// The jar's commands in child JVMs: headless run, jshell launcher, install/uninstall. No tensor shapes here.
package ai.longconv4j.kernel;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CommandLineTest {

    static String notebook(String... cells) {
        var arr = new JsonArray();
        for (String c : cells) {
            var o = new JsonObject();
            o.addProperty("cell_type", "code");
            o.add("metadata", new JsonObject());
            o.addProperty("source", c);
            o.add("outputs", new JsonArray());
            o.add("execution_count", null);
            arr.add(o);
        }
        var nb = new JsonObject();
        nb.add("cells", arr);
        nb.add("metadata", new JsonObject());
        nb.addProperty("nbformat", 4);
        nb.addProperty("nbformat_minor", 5);
        return nb.toString();
    }

    static JsonArray outputs(JsonObject nb, int cell) {
        return nb.getAsJsonArray("cells").get(cell).getAsJsonObject().getAsJsonArray("outputs");
    }

    @Test
    void headlessRunWritesNbformatOutputs(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("nb.ipynb"), out = dir.resolve("out.ipynb");
        Files.writeString(in, notebook("var t = Tensor.zeros(DType.F64, 3);\nt.numel()",
                "System.out.println(\"line\");\nSystem.err.println(\"warn\");",
                "String id = display(\"a\");\nupdateDisplay(id, \"b\");",
                "throw new IllegalStateException(\"bad\");",
                "1 + 1"));
        var r = Child.run(Child.main("run", in.toString(), "--out", out.toString(), "--timeout", "60"), Map.of(), dir, 180);
        assertEquals(1, r.code(), "a failing cell stops the run with exit code 1:\n" + r.output());
        JsonObject nb = JsonParser.parseString(Files.readString(out)).getAsJsonObject();
        JsonObject res = outputs(nb, 0).get(0).getAsJsonObject();
        assertEquals("execute_result", res.get("output_type").getAsString());
        assertEquals("3", res.getAsJsonObject("data").get("text/plain").getAsString());
        assertEquals(1, res.get("execution_count").getAsInt());
        assertEquals("line\n", outputs(nb, 1).get(0).getAsJsonObject().get("text").getAsString());
        assertEquals("stderr", outputs(nb, 1).get(1).getAsJsonObject().get("name").getAsString());
        assertEquals("\"b\"", outputs(nb, 2).get(0).getAsJsonObject().getAsJsonObject("data").get("text/plain").getAsString(),
                "updateDisplay replaced the display in place");
        JsonObject err = outputs(nb, 3).get(0).getAsJsonObject();
        assertEquals("error", err.get("output_type").getAsString());
        assertEquals("java.lang.IllegalStateException", err.get("ename").getAsString());
        assertEquals(0, outputs(nb, 4).size(), "cells after the failure did not run");

        var allowed = Child.run(Child.main("run", in.toString(), "--out", out.toString(), "--allow-errors"), Map.of(), dir, 180);
        assertEquals(0, allowed.code(), allowed.output());
        nb = JsonParser.parseString(Files.readString(out)).getAsJsonObject();
        assertEquals("2", outputs(nb, 4).get(0).getAsJsonObject().getAsJsonObject("data").get("text/plain").getAsString());
    }

    @Test
    void headlessTimeoutInterruptsTheCell(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("slow.ipynb");
        Files.writeString(in, notebook("Thread.sleep(600_000);"));
        var r = Child.run(Child.main("run", in.toString(), "--timeout", "2"), Map.of(), dir, 120);
        assertEquals(1, r.code(), r.output());
        assertTrue(Files.readString(in).contains("CellTimeoutError"));
    }

    @Test
    void jshellLauncherRunsScriptsWithTheLibraryAndImports(@TempDir Path dir) throws Exception {
        Path script = dir.resolve("s.jsh");
        Files.writeString(script, "System.out.println(\"numel=\" + Tensor.ones(DType.F32, 4, 5).numel());\n");
        var r = Child.run(Child.main("jshell", "--script", script.toString()), Map.of(), dir, 180);
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("numel=20"), r.output());
    }

    @Test
    void installAndUninstall(@TempDir Path dir) throws Exception {
        var r = Child.run(Child.main("install", "--prefix", dir.toString(), "--name", "lc-x", "--jvm-opts", "-Xmx3g -Dfoo=1", "--env", "A=B"), Map.of(), dir, 60);
        assertEquals(0, r.code(), r.output());
        Path spec = dir.resolve("share/jupyter/kernels/lc-x/kernel.json");
        JsonObject o = JsonParser.parseString(Files.readString(spec)).getAsJsonObject();
        String argv = o.getAsJsonArray("argv").toString();
        assertTrue(argv.contains("-Xmx3g") && argv.contains("-Dfoo=1") && argv.contains("{connection_file}"), argv);
        assertEquals("message", o.get("interrupt_mode").getAsString());
        assertEquals("B", o.getAsJsonObject("env").get("A").getAsString());
        assertTrue(Files.exists(spec.resolveSibling("logo-32x32.png")));
        assertEquals(0, Child.run(Child.main("uninstall", "--prefix", dir.toString(), "--name", "lc-x"), Map.of(), dir, 60).code());
        assertFalse(Files.exists(spec.getParent()));
        assertEquals(1, Child.run(Child.main("uninstall", "--prefix", dir.toString(), "--name", "lc-x"), Map.of(), dir, 60).code());
    }
}
