// Shape legend: B batch, L length, V vocabulary (65 chars), D width.
package ai.longconv4j.examples;

import ai.longconv4j.backend.cpu.CpuContext;
import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.data.Datasets;
import ai.longconv4j.data.TextDataset;
import ai.longconv4j.models.Generation;
import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.models.Mixer;
import ai.longconv4j.train.History;
import ai.longconv4j.train.Objectives;
import ai.longconv4j.train.TerminalProgress;
import ai.longconv4j.train.Trainer;
import java.nio.file.Path;

/**
 * Character-level LongConvLM on tiny Shakespeare (found through {@code -Dlongconv4j.data=DIR} or
 * {@code LONGCONV4J_DATA}); reports val loss in nats/char and prints a sample.
 *
 * <pre>
 * java -Dlongconv4j.data=../shared/data -cp ... ai.longconv4j.examples.TrainCharLM --engine=learned --steps=300 --lambda=0
 * </pre>
 * Flags: engine (fixed | learned: the causal learned-Monarch engine, {@code ConvEngine.LEARNED_CAUSAL}), lambda
 * (0 = no Squash), steps, width, layers, length, batch, lr, mixer (h3 | longconv), evalBatches, threads, seed, plot
 * (a PNG path, optional), save (a safetensors path for the trained model's state dict, optional), probe (true: run
 * {@code Causality.probe} on the trained model over the full length and print the future/past gradient ratio),
 * device (cpu | best | cuda:N; default cpu).
 */
public final class TrainCharLM {
    private TrainCharLM() {
    }

    public static void main(String[] args) throws Exception {
        var f = new Flags(args);
        String engine = f.str("engine", "fixed");
        double lambda = f.real("lambda", 0.003);
        int steps = f.integer("steps", 300);
        int width = f.integer("width", 64);
        int layers = f.integer("layers", 2);
        int length = f.integer("length", 128);
        int batch = f.integer("batch", 16);
        double lr = f.real("lr", 2e-3);
        String mixer = f.str("mixer", "h3");
        var init = ai.longconv4j.models.H3Conv.Init.valueOf(f.str("init", "shift_sum").toUpperCase(java.util.Locale.ROOT));
        int evalBatches = f.integer("evalBatches", 20);
        int evalEvery = f.integer("evalEvery", 100);
        int threads = f.integer("threads", Runtime.getRuntime().availableProcessors());
        long seed = f.integer("seed", 0);
        double minutes = f.real("minutes", 0);
        String plot = f.str("plot", "");
        String save = f.str("save", "");
        boolean probe = f.str("probe", "false").equals("true");
        String device = f.str("device", "cpu");
        String settings = f.done();
        System.out.println("TrainCharLM " + settings);
        System.out.println("BLAS: " + ai.longconv4j.backend.cpu.MatmulKernels.describeBlas());
        var data = TextDataset.of(Datasets.get("tinyshakespeare"), null, 0.9);
        System.out.println("data: " + data + "; val loss is nats/char over the first " + evalBatches * 32 * length
                + " val chars (" + evalBatches + " batches of 32 x " + length + ")");
        var lm = LongConvLM.builder().vocab(data.vocabSize()).width(width).layers(layers).length(length).lambda(lambda)
                .mixer(mixer.equals("longconv") ? Mixer.LONGCONV : Mixer.H3).h3Init(init)
                .engine(engine.equals("learned") ? ConvEngine.LEARNED_CAUSAL : ConvEngine.FFT).seed(seed).build();
        var dev = switch (device) {
            case "best" -> ai.longconv4j.backend.Devices.best();
            case "cpu" -> ai.longconv4j.tensor.Device.CPU;
            default -> ai.longconv4j.tensor.Device.cuda(Integer.parseInt(device.substring(device.indexOf(':') + 1)));
        };
        lm.to(dev);
        System.out.println("device: " + dev + " (" + ai.longconv4j.backend.Devices.describe() + ")");
        System.out.println(lm);
        var builder = Trainer.builder().model(lm).objective(Objectives.languageModel(lm, data, length, 32, evalBatches))
                .steps(steps).batchSize(batch).lr(lr).weightDecay(0.1).evalEvery(evalEvery).seed(seed)
                .listener(new TerminalProgress());
        if (minutes > 0) {
            builder.timeLimit(java.time.Duration.ofMillis((long) (minutes * 60_000)));
        }
        var trainer = builder.build();
        long t0 = System.nanoTime();
        History h = CpuContext.withThreads(threads).call(trainer::fit);
        double sec = (System.nanoTime() - t0) * 1e-9;
        double cpuMin = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toMillis() / 60000.0).orElse(Double.NaN);
        System.out.printf("time: %.1f min wall, %.1f CPU-min for the whole process (data generation and JIT included)%n", sec / 60, cpuMin);
        var last = h.evaluations().get(h.evaluations().size() - 1);
        var tok = data.tokenizer();
        String sample = tok.decode(Generation.sample(lm, tok.encode("ROMEO:"), 200, 0.8, 10, seed));
        System.out.println("sample (T=0.8, top-10):\n" + sample);
        if (!plot.isEmpty()) {
            System.out.println("plot: " + h.plot(Path.of(plot)));
        }
        if (!save.isEmpty()) {
            ai.longconv4j.io.TensorFiles.save(Path.of(save), lm.stateDict(), java.util.Map.of("model", lm.toString().lines().findFirst().orElse("")));
            System.out.println("saved: " + save);
        }
        if (probe) {
            var r = CpuContext.withThreads(threads).call(() -> ai.longconv4j.models.Causality.probe(lm, width, lm.dtype(), length));
            System.out.printf("causality probe (L=%d): worst future/past gradient ratio %.3g (output %d, input %d) -> %s%n", length,
                    r.worstRatio(), r.output(), r.input(), r.causal() ? "causal" : "NOT causal");
        }
        System.out.println("stop: " + h.stopReason() + " " + h.stopMessage());
        System.out.printf("summary: engine=%s lambda=%s mixer=%s D=%d layers=%d L=%d: %d steps in %.1f s (%.1f min), "
                + "val loss %.4f nats/char, val accuracy %.1f%%, %,.0f tokens/s (last step)%n", engine, lambda, mixer, width,
                layers, length, h.rows().size(), sec, sec / 60, last.valLoss(), 100 * last.accuracy(),
                h.rows().get(h.rows().size() - 1).tokensPerSecond());
    }
}
