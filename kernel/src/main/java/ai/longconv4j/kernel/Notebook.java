// Functions that notebook cells call (statically imported): display, updateDisplay, progress, input. No shapes.
package ai.longconv4j.kernel;

import org.dflib.jjava.jupyter.kernel.display.DisplayData;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.UUID;

/**
 * Helpers for user code, statically imported into every session:
 * <pre>
 * jshell&gt; String id = display(Tensor.zeros(DType.F32, 2, 3))   // shows it now, returns its display id
 * jshell&gt; updateDisplay(id, Tensor.ones(DType.F32, 2, 3))      // replaces that output in place
 * jshell&gt; try (var bar = progress("train", 1000)) { ... bar.step(); }
 * jshell&gt; Trainer.builder()...listener(notebookProgress()).build().fit()   // live training bar
 * jshell&gt; String name = input("name? ")
 * jshell&gt; var model = LongConvLM.builder()...build(); model.to(device())   // the %device selection
 * jshell&gt; registerCommTarget("echo", (comm, data) -&gt; comm.onMessage(d -&gt; comm.send(d)))   // Jupyter comms
 * jshell&gt; var c = openComm("my.widget", Map.of("value", 1))
 * </pre>
 * Outside a kernel (plain JShell, a program) display prints {@code toString()}, progress draws
 * {@code \r} lines on stderr and input reads System.in.
 */
public final class Notebook {
    /** The output of the kernel running in this JVM (one kernel per JVM), or null. */
    private static volatile CellOutput output;

    /** The comms of the kernel running in this JVM; outside a kernel, one whose sending fails. */
    private static volatile Comms comms = new Comms((type, content) -> {
        throw new IllegalStateException("comms need a Jupyter frontend: this JVM runs no kernel");
    });

    private Notebook() { }

    /** Connects the comm helpers to a kernel (called once by the kernel). */
    static void bindComms(Comms c) {
        comms = c;
    }

    /**
     * Registers the handler of comms the frontend opens with {@code targetName} (e.g. a widget's model);
     * see {@link Comms}.
     */
    public static void registerCommTarget(String targetName, Comms.Target target) {
        comms.registerTarget(targetName, target);
    }

    /** Opens a comm to the frontend with {@code targetName} and initial {@code data}; see {@link Comms}. */
    public static Comms.Comm openComm(String targetName, java.util.Map<String, ?> data) {
        return comms.open(targetName, data);
    }

    /** Connects these helpers to a kernel's output (called by the kernel before each cell). */
    static void bind(CellOutput out) {
        output = out;
    }

    static CellOutput output() {
        return output;
    }

    /**
     * The device chosen with {@code %device} (initially the best available: cuda:0 with a usable GPU, else the
     * CPU); outside a kernel, {@link ai.longconv4j.backend.Devices#best()}. Put models and tensors there:
     * {@code model.to(device())}, {@code x.to(device())}.
     */
    public static ai.longconv4j.tensor.Device device() {
        return Devices.selected();
    }

    /** Shows {@code value} rendered (HTML, PNG, text) and returns the display id to update it later. */
    public static String display(Object value) {
        String id = UUID.randomUUID().toString();
        CellOutput o = output;
        if (o == null) {
            System.out.println(value);
            return id;
        }
        DisplayData d = Rendering.render(value);
        d.setDisplayId(id);
        o.display(d, false);
        return id;
    }

    /** Replaces the output shown by {@link #display(Object)} under {@code displayId} with {@code value}. */
    public static void updateDisplay(String displayId, Object value) {
        CellOutput o = output;
        if (o == null) {
            System.out.println(value);
            return;
        }
        DisplayData d = Rendering.render(value);
        d.setDisplayId(displayId);
        o.display(d, true);
    }

    /** A progress bar over {@code total} steps; see {@link ProgressBar}. */
    public static ProgressBar progress(String label, long total) {
        CellOutput o = output;
        return o != null && o.rich() ? new Progress(label, total, o, null) : new Progress(label, total, null, System.err);
    }

    /**
     * A {@link ai.longconv4j.train.TrainListener} that shows a {@link ai.longconv4j.train.Trainer}'s
     * progress as one bar updated in place (loss, lr, steps/s, tokens/s, ETA) and evaluations as lines;
     * outside a kernel it prints the library's terminal progress line instead.
     * <pre>
     * jshell&gt; var history = Trainer.builder().model(lm).objective(obj).steps(500).listener(notebookProgress()).build().fit()
     * </pre>
     */
    public static ai.longconv4j.train.TrainListener notebookProgress() {
        return new TrainProgress("train");
    }

    /** Like {@link #notebookProgress()} with a label in front of the bar. */
    public static ai.longconv4j.train.TrainListener notebookProgress(String label) {
        return new TrainProgress(label);
    }

    /** Reads a line from the notebook user (Jupyter input_request) or from System.in. */
    public static String input(String prompt) {
        return read(prompt, false);
    }

    /** Like {@link #input} but the frontend hides what is typed. */
    public static String password(String prompt) {
        return read(prompt, true);
    }

    private static String read(String prompt, boolean password) {
        CellOutput o = output;
        try {
            if (o != null) return o.readLine(prompt, password);
            System.out.print(prompt);
            System.out.flush();
            return new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
