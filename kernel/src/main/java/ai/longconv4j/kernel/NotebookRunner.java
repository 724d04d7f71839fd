// Headless notebook execution: runs every code cell and writes nbformat-4 outputs back. No shapes.
package ai.longconv4j.kernel;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code run NOTEBOOK.ipynb [--out FILE] [--timeout S] [--allow-errors]}: executes the code cells in
 * order through a {@link Session} (the same engine as the kernel) and stores streams, displays,
 * results, errors and execution counts in the notebook (nbformat 4). A failing cell stops the run
 * with exit code 1 unless {@code --allow-errors}; a cell running past the timeout is interrupted.
 * No Jupyter installation is needed.
 */
public final class NotebookRunner {
    /** Grace period after interrupting a timed-out cell. */
    private static final long INTERRUPT_GRACE_S = 5;

    private NotebookRunner() { }

    static int main(List<String> args) throws Exception {
        Path in = null, out = null;
        double timeout = -1;
        boolean allowErrors = false;
        for (int i = 0; i < args.size(); i++) {
            switch (args.get(i)) {
                case "--out" -> out = Path.of(args.get(++i));
                case "--timeout" -> timeout = Double.parseDouble(args.get(++i));
                case "--allow-errors" -> allowErrors = true;
                default -> {
                    if (in != null) throw new IllegalArgumentException("run: unexpected argument " + args.get(i));
                    in = Path.of(args.get(i));
                }
            }
        }
        if (in == null) throw new IllegalArgumentException("run: expected NOTEBOOK.ipynb");
        var router = new StreamRouter();
        router.install();
        try (var session = new Session()) {
            return run(in, out == null ? in : out, timeout, allowErrors, session, router);
        }
    }

    /** Runs the notebook {@code in}, writes {@code out}; returns the exit code. */
    static int run(Path in, Path out, double timeoutS, boolean allowErrors, Session session, StreamRouter router) throws IOException {
        JsonObject nb = JsonParser.parseString(Files.readString(in)).getAsJsonObject();
        JsonArray cells = nb.getAsJsonArray("cells");
        ExecutorService exec = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "cell");
            t.setDaemon(true);
            return t;
        });
        int count = 0, status = 0, index = 0;
        try {
            for (JsonElement ce : cells) {
                index++;
                JsonObject cell = ce.getAsJsonObject();
                if (!"code".equals(cell.get("cell_type").getAsString())) continue;
                String src = source(cell.get("source"));
                var outputs = new Outputs();
                cell.add("outputs", outputs.list);
                if (src.isBlank()) {
                    cell.add("execution_count", null);
                    continue;
                }
                cell.addProperty("execution_count", ++count);
                long t0 = System.nanoTime();
                Future<CellResult> f = exec.submit(() -> session.execute(src, outputs));
                CellResult r;
                try {
                    r = timeoutS > 0 ? f.get((long) (timeoutS * 1000), TimeUnit.MILLISECONDS) : f.get();
                } catch (TimeoutException te) {
                    session.interrupt();
                    try {
                        f.get(INTERRUPT_GRACE_S, TimeUnit.SECONDS);
                    } catch (Exception ignored) {
                        // reported as a timeout below
                    }
                    String v = "cell " + index + " ran longer than " + timeoutS + " s and was interrupted";
                    r = CellResult.failed("CellTimeoutError", v, List.of("CellTimeoutError: " + v));
                } catch (Exception ee) {
                    r = CellResult.failed(ee.getClass().getName(), String.valueOf(ee.getMessage()), List.of(String.valueOf(ee)));
                }
                router.flush();
                if (r.ok() && r.value() != null) {
                    JsonObject res = data(r.value(), "execute_result");
                    res.addProperty("execution_count", count);
                    outputs.list.add(res);
                } else if (!r.ok()) {
                    JsonObject err = KernelServer.error(r.error());
                    err.addProperty("output_type", "error");
                    outputs.list.add(err);
                }
                Log.info(String.format("cell %d: %s (%.2f s)", index, r.ok() ? "ok" : "error " + r.error().ename(), (System.nanoTime() - t0) / 1e9));
                if (!r.ok()) {
                    status = 1;
                    if (!allowErrors) break;
                }
            }
        } finally {
            exec.shutdownNow();
            write(out, new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create().toJson(nb) + "\n");
        }
        return allowErrors ? 0 : status;
    }

    static String source(JsonElement e) {
        if (e == null || e.isJsonNull()) return "";
        if (e.isJsonPrimitive()) return e.getAsString();
        var sb = new StringBuilder();
        for (JsonElement l : e.getAsJsonArray()) sb.append(l.getAsString());
        return sb.toString();
    }

    static JsonObject data(DisplayData d, String type) {
        JsonObject b = KernelServer.bundle(d, false);
        JsonObject o = new JsonObject();
        o.addProperty("output_type", type);
        o.add("data", b.get("data"));
        o.add("metadata", b.get("metadata"));
        return o;
    }

    /** nbformat outputs of one cell; consecutive stream text of the same name is merged. */
    private static final class Outputs implements CellOutput {
        final JsonArray list = new JsonArray();
        private final Map<String, List<JsonObject>> byDisplayId = new HashMap<>();

        @Override
        public synchronized void stream(String name, String text) {
            if (!list.isEmpty()) {
                JsonObject last = list.get(list.size() - 1).getAsJsonObject();
                if ("stream".equals(last.get("output_type").getAsString()) && name.equals(last.get("name").getAsString())) {
                    last.addProperty("text", last.get("text").getAsString() + text);
                    return;
                }
            }
            JsonObject o = new JsonObject();
            o.addProperty("output_type", "stream");
            o.addProperty("name", name);
            o.addProperty("text", text);
            list.add(o);
        }

        @Override
        public synchronized void display(DisplayData d, boolean update) {
            JsonObject o = data(d, "display_data");
            String id = d.hasDisplayId() ? d.getDisplayId() : null;
            if (update) {
                for (JsonObject old : byDisplayId.getOrDefault(id, List.of())) {
                    old.add("data", o.get("data"));
                    old.add("metadata", o.get("metadata"));
                }
                return;
            }
            list.add(o);
            if (id != null) byDisplayId.computeIfAbsent(id, k -> new ArrayList<>()).add(o);
        }

        @Override
        public String readLine(String prompt, boolean password) throws IOException {
            throw new IOException("stdin is not available when a notebook runs headless");
        }
    }

    /** Writes the notebook atomically (temp file in the same folder, then a rename), creating the folder. */
    private static void write(Path out, String text) throws IOException {
        Path abs = out.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path tmp = Files.createTempFile(abs.getParent(), abs.getFileName().toString(), ".tmp");
        try {
            Files.writeString(tmp, text);
            try {   // temp files are owner-only; a notebook is an ordinary file
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException notPosix) {
                // keep the default permissions
            }
            Files.move(tmp, abs, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
