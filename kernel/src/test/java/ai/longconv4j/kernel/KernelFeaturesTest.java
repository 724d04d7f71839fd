// In-process tests of %%profile, %device, the Trainer progress bar and the dropping of $N variables. No shapes.
package ai.longconv4j.kernel;

import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class KernelFeaturesTest {
    static Session session;

    @BeforeAll
    static void start() {
        session = new Session();
        session.engine();
    }

    @AfterAll
    static void stop() {
        session.close();
    }

    static String plain(DisplayData d) {
        return (String) d.getData(MIMEType.TEXT_PLAIN);
    }

    static CellResult ok(String code, Recorder out) {
        CellResult r = session.execute(code, out);
        assertTrue(r.ok(), () -> "cell failed: " + r.error().text());
        return r;
    }

    // ---- %%profile ---------------------------------------------------------------------------

    @Test
    void profileRunsTheLibraryProfilerOverEverySnippetOfTheCell() {
        var out = new Recorder();
        CellResult r = ok("""
                %%profile
                var pa = Tensor.ones(DType.F32, 32, 64);
                var pb = Tensor.ones(DType.F32, 64, 16);
                var pc = pa.matmul(pb);
                var pd = pa.matmul(pb);
                pd.sum().item()""", out);
        assertEquals("32768.0", plain(r.value()), "32x16 entries of 64: the cell's own value is still its result");
        assertEquals(1, out.displays.size(), "one profile table");
        String text = plain(out.displays.getFirst());
        String html = (String) out.displays.getFirst().getData(MIMEType.TEXT_HTML);
        assertTrue(html.contains("<table") && html.contains("matmul") && html.contains("tflop_per_s"), html);
        assertTrue(text.contains("5 snippet(s)") && text.contains("matmul"), text);
        // the two matmuls ran in different snippets (different threads): merged into one row of 2 calls
        String row = text.lines().filter(l -> l.contains(" matmul ")).findFirst().orElseThrow();
        assertTrue(row.matches(".*\\bmatmul\\s*\\|\\s*2\\s*\\|.*"), row);
        // 2 calls x 2*32*16*64 FLOPs = 131072 = 0.0001 GFLOP at 4 decimals
        assertTrue(row.contains("0.0001"), row);
        assertEquals("true", plain(ok("ai.longconv4j.profile.Profiler.active() == null", out).value()),
                "the next cell is not profiled");
    }

    @Test
    void profiledCellThatThrowsReportsTheErrorAndStillShowsTheTable() {
        var out = new Recorder();
        CellResult r = session.execute("%%profile\nvar q = Tensor.ones(DType.F32, 4).sum();\nif (true) throw new IllegalStateException(\"boom\");", out);
        assertFalse(r.ok());
        assertTrue(r.error().ename().contains("IllegalStateException"), r.error().ename());
        assertFalse(r.error().text().contains("CellProfiler") || r.error().text().contains("trampoline"), r.error().text());
        assertEquals(1, out.displays.size());
        assertTrue(plain(out.displays.getFirst()).contains("sum"), plain(out.displays.getFirst()));
        assertEquals("3", plain(ok("1 + 2", out).value()), "the kernel goes on unprofiled");
    }

    private static Table part(String[] kinds, String[] names, int[] calls, double[] ms, double[] gflop, double[] gbytes) {
        double[] nan = new double[ms.length];
        java.util.Arrays.fill(nan, Double.NaN);
        return Table.create("profile", StringColumn.create("kind", kinds), StringColumn.create("name", names),
                IntColumn.create("calls", calls), DoubleColumn.create("total_ms", ms), DoubleColumn.create("mean_us", nan),
                DoubleColumn.create("percent", nan), DoubleColumn.create("gflop", gflop), DoubleColumn.create("gbytes", gbytes),
                DoubleColumn.create("gb_per_s", nan), DoubleColumn.create("tflop_per_s", nan));
    }

    @Test
    void mergeSumsRowsAndRecomputesRatesFromTheSums() {
        double nan = Double.NaN;
        Table a = part(new String[] {"op", "op", "module"}, new String[] {"matmul", "gelu", "block"}, new int[] {1, 2, 1},
                new double[] {2, 1, 4}, new double[] {4, nan, nan}, new double[] {0.002, 0.001, nan});
        Table b = part(new String[] {"op", "op"}, new String[] {"matmul", "(untracked)"}, new int[] {3, 0},
                new double[] {6, 1}, new double[] {12, nan}, new double[] {0.006, nan});
        Table m = CellProfiler.merge(List.of(a, b), 10_000_000L);   // 10 ms of profiled time
        assertEquals(List.of("matmul", "gelu", "(untracked)", "block"), m.stringColumn("name").asList(), "ops by time, then modules");
        assertEquals(4, m.intColumn("calls").getInt(0));
        assertEquals(8, m.doubleColumn("total_ms").getDouble(0), 1e-12);
        assertEquals(2000, m.doubleColumn("mean_us").getDouble(0), 1e-9);
        assertEquals(80, m.doubleColumn("percent").getDouble(0), 1e-9);
        assertEquals(16, m.doubleColumn("gflop").getDouble(0), 1e-12);
        assertEquals(2.0, m.doubleColumn("tflop_per_s").getDouble(0), 1e-12, "16 GFLOP in 8 ms");
        assertEquals(1.0, m.doubleColumn("gb_per_s").getDouble(0), 1e-12, "0.008 GB in 8 ms");
        assertTrue(Double.isNaN(m.doubleColumn("gflop").getDouble(1)), "unknown FLOPs stay unknown, not 0");
        assertTrue(Double.isNaN(m.doubleColumn("mean_us").getDouble(2)), "0 calls: no mean");
        assertTrue(Double.isNaN(m.doubleColumn("gb_per_s").getDouble(3)), "modules have no bytes");
        Table wrong = Table.create("x", StringColumn.create("kind"));
        var e = assertThrows(IllegalArgumentException.class, () -> CellProfiler.merge(List.of(wrong), 1));
        assertTrue(e.getMessage().contains("expected columns"), e.getMessage());
    }

    // ---- %device -----------------------------------------------------------------------------

    @Test
    void deviceShowsTheSelectionAndTheGpuStatusAndSwitches() {
        var out = new Recorder();
        ok("%device", out);
        String s = out.stdout.toString();
        var best = ai.longconv4j.backend.Devices.best();
        assertTrue(s.startsWith("device for Tensor ops: " + best), s);
        assertTrue(s.contains(Runtime.getRuntime().availableProcessors() + " cores"), s);
        assertTrue(s.contains("gpu: " + ai.longconv4j.cuda.Cuda.reason()), "GPU line is kernels-cuda's status: " + s);
        assertEquals(best.toString(), SessionTest.text(session.execute("device()", new Recorder())));
        CellResult g = session.execute("%device gpu", new Recorder());
        if (ai.longconv4j.backend.Devices.usable(new ai.longconv4j.tensor.Device(ai.longconv4j.tensor.Device.Kind.CUDA, 0))) {
            assertTrue(g.ok(), "a usable GPU is selected");
            assertEquals("cuda:0", SessionTest.text(session.execute("device()", new Recorder())));
        } else {
            assertFalse(g.ok(), "no GPU here: selecting it is an error");
            assertTrue(g.error().evalue().contains("cannot use cuda:0") && g.error().evalue().contains("selection stays"),
                    g.error().evalue());
        }
        assertFalse(session.execute("%device tpu", new Recorder()).ok());
        assertFalse(session.execute("%device cuda:99", new Recorder()).ok(), "no device 99 anywhere here");
        var cpu = new Recorder();
        ok("%device cpu", cpu);
        assertTrue(cpu.stdout.toString().startsWith("device for Tensor ops: cpu"), cpu.stdout.toString());
        assertEquals("cpu", SessionTest.text(session.execute("device()", new Recorder())));
        ok("%device auto", new Recorder());
        assertEquals(best.toString(), SessionTest.text(session.execute("device()", new Recorder())));
    }

    // ---- Trainer progress --------------------------------------------------------------------

    static final String TRAINER = """
            String text = "abcdabcdabcdabcd".repeat(40);
            var tok = CharTokenizer.fromCorpus(text);
            var data = TextDataset.ofTokens(tok.encode(text), tok, 0.8);
            var lm = LongConvLM.builder().vocab(tok.vocabSize()).width(8).layers(1).length(16).seed(1).build();
            var trainerB = Trainer.builder().model(lm).objective(Objectives.languageModel(lm, data, 16, 4, 2))
                .steps(%d).batchSize(4).lr(1e-2).seed(2)%s;
            """;

    @Test
    void notebookProgressShowsTrainingAsOneDisplayUpdatedInPlace() {
        var setup = new Recorder();
        ok(TRAINER.formatted(40, ".evalEvery(20).listener(notebookProgress())"), setup);
        var out = new Recorder();   // fit() in a later cell: the bar goes to this cell's output
        CellResult r = ok("var history = trainerB.build().fit();\nhistory.stopReason()", out);
        assertEquals("COMPLETED", plain(r.value()));
        assertTrue(setup.displays.isEmpty(), "nothing drawn before fit()");
        assertEquals(1, out.displays.size(), "one bar");
        String id = out.displays.getFirst().getDisplayId();
        assertFalse(out.updates.isEmpty());
        assertTrue(out.updates.size() <= 40 + 2, "redraws are throttled: " + out.updates.size());
        assertTrue(out.updates.stream().allMatch(u -> id.equals(u.getDisplayId())), "updates replace the same display");
        String last = plain(out.updates.getLast());
        assertTrue(last.contains("40/40") && last.contains("stopped: COMPLETED"), last);
        assertTrue(out.updates.stream().map(KernelFeaturesTest::plain).anyMatch(t -> t.contains("loss ") && t.contains("steps/s")),
                "step figures are shown");
        assertTrue(((String) out.updates.getLast().getData(MIMEType.TEXT_HTML)).contains("<progress value=\"40\" max=\"40\""));
        assertTrue(out.stdout.toString().contains("eval @ step 20") && out.stdout.toString().contains("eval @ step 40"), out.stdout.toString());
        // control: the same trainer without the listener draws nothing
        var quiet = new Recorder();
        ok(TRAINER.formatted(3, "") + "trainerB.build().fit();", quiet);
        assertTrue(quiet.displays.isEmpty() && quiet.updates.isEmpty());
    }

    @Test
    void notebookProgressFallsBackToTheTerminalLineOutsideAKernel() {
        var l = Notebook.notebookProgress();
        CellOutput saved = Notebook.output();
        PrintStream err = System.err;
        var buf = new ByteArrayOutputStream();
        Notebook.bind(null);
        try {
            System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
            l.onStart(0, 10);
            l.onStep(new ai.longconv4j.train.TrainListener.Progress(10, 10, 1.5, 1e-3, 5, 100, 0));
        } finally {
            System.setErr(err);
            Notebook.bind(saved);
        }
        String s = buf.toString(StandardCharsets.UTF_8);
        assertTrue(s.contains("\r[####################] 100%") && s.contains("loss 1.5000"), s);
    }

    // ---- $N variables ------------------------------------------------------------------------

    @Test
    void expressionValuesDoNotPileUpAsTemporaryVariables() {
        var out = new Recorder();
        for (int i = 0; i < 5; i++) assertEquals(String.valueOf(i * i), plain(ok(i + " * " + i, out).value()));
        assertEquals(0, session.engine().activeTempVars(), "each $N is dropped once its value is read");
        ok("int kept = 41;", out);
        assertEquals("42", plain(ok("kept + 1", out).value()), "declared variables stay");
    }
}
