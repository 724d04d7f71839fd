// Shape legend: not shape-specific; batches are (B, L) token arrays inside the Objective.
package ai.longconv4j.train;

import ai.longconv4j.conv.LongConvKernel;
import ai.longconv4j.io.TensorFiles;
import ai.longconv4j.models.LongConvModel;
import ai.longconv4j.nn.Module;
import ai.longconv4j.optim.AdamW;
import ai.longconv4j.optim.ParamGroup;
import ai.longconv4j.optim.Schedule;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * The training loop: AdamW over the model's parameter groups (kernel group: weight decay 0, its own
 * lr; butterfly group: lr 1e-3, weight decay 0), linear warmup + cosine decay, gradient accumulation,
 * gradient clipping, evaluation every k steps, checkpoints (the last and the best by val loss, written
 * atomically with the optimizer state and the step), a NaN/Inf guard, and interrupt checks.
 *
 * <pre>{@code
 * jshell> var lm = LongConvLM.builder().vocab(65).width(64).layers(2).length(128).build()
 * jshell> var trainer = Trainer.builder().model(lm).objective(Objectives.languageModel(lm, data, 128, 16, 8))
 *    ...>     .steps(500).batchSize(16).lr(2e-3).evalEvery(100).checkpointDir(Path.of("ckpt")).build()
 * jshell> var history = trainer.fit()
 * history ==> History(500 steps, last train loss 1.9312, last val loss 1.9876, COMPLETED)
 * }</pre>
 *
 * <p><b>Reproducible.</b> Step s draws its batches from {@code Rng.seeded(mix(seed, s))}, so the same seed
 * gives the same loss curve on the CPU, and a run resumed from a checkpoint ({@link #resume}) continues it.
 * Dropout generators inside modules are not part of checkpoints: exact resumption needs dropout 0.
 *
 * <p><b>Stops.</b> {@link #fit()} checks the thread's interrupt flag before every step and returns with
 * {@link History.StopReason#INTERRUPTED} (after writing the last checkpoint; the flag is consumed); a
 * non-finite loss or gradient norm throws {@link NonFiniteLossException} naming the step, leaves the
 * parameters at the previous step and keeps the last good checkpoint.
 */
public final class Trainer {
    /** File name of the latest checkpoint inside the checkpoint directory. */
    public static final String LAST = "last.safetensors";
    /** File name of the best (lowest val loss) checkpoint. */
    public static final String BEST = "best.safetensors";
    private static final String MODEL_PREFIX = "model.";
    private static final String OPTIM_PREFIX = "optim.";

    private final Builder cfg;
    private final Module model;
    private final Objective objective;
    private final AdamW optimizer;
    private final ParamGroup reportGroup;
    private final long totalSteps;
    private long step;
    private double bestVal = Double.POSITIVE_INFINITY;
    private long lastGoodCheckpointStep = -1;

    private Trainer(Builder b) {
        this.cfg = b;
        this.model = b.model;
        this.objective = b.objective;
        List<ParamGroup> groups = b.model instanceof LongConvModel lcm ? lcm.paramGroups(b.lr, b.weightDecay)
                : LongConvModel.groups(b.model, LongConvKernel.LR, b.lr, b.weightDecay);
        this.optimizer = new AdamW(groups);
        this.reportGroup = groups.get(0);
        this.totalSteps = b.steps > 0 ? b.steps
                : Math.max(1, (long) Math.ceil(b.epochs * b.objective.trainExamples() / (double) (b.batchSize * b.accumulation)));
        long warmup = b.warmup >= 0 ? Math.min(b.warmup, totalSteps) : totalSteps / 20;
        optimizer.schedule(Schedule.warmupCosine(warmup, totalSteps, b.minLrFactor));
    }

    /** A builder; {@code model}, {@code objective} and {@code steps} or {@code epochs} are required. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builder of {@link Trainer}. */
    public static final class Builder {
        private Module model;
        private Objective objective;
        private long steps = -1;
        private double epochs = -1;
        private int batchSize = 8;
        private int accumulation = 1;
        private double lr = 1e-3;
        private double weightDecay = 0.1;
        private long warmup = -1;
        private double minLrFactor = 0.1;
        private double clipNorm = 1.0;
        private long evalEvery;
        private Path checkpointDir;
        private long seed;
        private java.time.Duration timeLimit;
        private final List<TrainListener> listeners = new ArrayList<>();

        private Builder() {
        }

        public Builder model(Module m) { model = Objects.requireNonNull(m, "model"); return this; }
        public Builder objective(Objective o) { objective = Objects.requireNonNull(o, "objective"); return this; }
        /** Total optimizer steps (or {@link #epochs}). */
        public Builder steps(long n) { steps = n; return this; }
        /** Epochs over {@link Objective#trainExamples()} (or {@link #steps}). */
        public Builder epochs(double n) { epochs = n; return this; }
        /** Examples per micro-batch (default 8). */
        public Builder batchSize(int b) { batchSize = b; return this; }
        /** Micro-batches per optimizer step (default 1). */
        public Builder accumulation(int k) { accumulation = k; return this; }
        /** Peak lr of the default groups (default 1e-3). */
        public Builder lr(double v) { lr = v; return this; }
        /** Weight decay of the decaying default group (default 0.1). */
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        /** Warmup steps (default 5% of the steps). */
        public Builder warmup(long n) { warmup = n; return this; }
        /** Final lr as a fraction of the peak (default 0.1). */
        public Builder minLrFactor(double f) { minLrFactor = f; return this; }
        /** Global gradient-norm clip (default 1.0; 0 turns clipping off). */
        public Builder clipNorm(double v) { clipNorm = v; return this; }
        /** Evaluate every k steps (default 0: only after the last step). */
        public Builder evalEvery(long k) { evalEvery = k; return this; }
        /** Where last/best checkpoints go (default none). */
        public Builder checkpointDir(Path dir) { checkpointDir = dir; return this; }
        /** Seed of the batch draws (default 0). */
        public Builder seed(long s) { seed = s; return this; }
        /**
         * Wall-clock budget of one {@link #fit()} call (default none): when it is used up, training stops
         * before the next step with {@link History.StopReason#TIME_LIMIT}, evaluating and writing the last
         * checkpoint first. The lr schedule still spans all steps.
         */
        public Builder timeLimit(java.time.Duration d) { timeLimit = Objects.requireNonNull(d, "timeLimit"); return this; }
        /** Adds a progress listener. */
        public Builder listener(TrainListener l) { listeners.add(Objects.requireNonNull(l, "listener")); return this; }

        /** Validates and builds; errors name the field and its value. */
        public Trainer build() {
            String op = "Trainer.Builder: ";
            if (model == null || objective == null) {
                throw new IllegalArgumentException(op + "model and objective are required");
            }
            if ((steps > 0) == (epochs > 0)) {
                throw new IllegalArgumentException(op + "set exactly one of steps (> 0) and epochs (> 0), got steps=" + steps
                        + ", epochs=" + epochs);
            }
            if (batchSize < 1 || accumulation < 1) {
                throw new IllegalArgumentException(op + "batchSize and accumulation must be >= 1, got batchSize=" + batchSize
                        + ", accumulation=" + accumulation);
            }
            if (!(lr > 0) || !(weightDecay >= 0) || !(clipNorm >= 0) || !(minLrFactor >= 0 && minLrFactor <= 1) || evalEvery < 0) {
                throw new IllegalArgumentException(op + "need lr > 0, weightDecay >= 0, clipNorm >= 0, minLrFactor in [0, 1],"
                        + " evalEvery >= 0; got lr=" + lr + ", weightDecay=" + weightDecay + ", clipNorm=" + clipNorm
                        + ", minLrFactor=" + minLrFactor + ", evalEvery=" + evalEvery);
            }
            return new Trainer(this);
        }
    }

    /** Total optimizer steps of the run. */
    public long totalSteps() { return totalSteps; }
    /** Steps done so far (after a resume: the checkpoint's step). */
    public long step() { return step; }
    public AdamW optimizer() { return optimizer; }
    public Module model() { return model; }

    /** The generator of step s's batches (depends only on the seed and s). */
    static RandomGenerator stepRng(long seed, long s) {
        return Rng.seeded(seed * 0x9E3779B97F4A7C15L + s * 0xBF58476D1CE4E5B9L + 1);
    }

    /** Trains from the current step to {@link #totalSteps()}; see the class comment for how it stops. */
    public History fit() {
        History h = new History();
        for (TrainListener l : cfg.listeners) {
            l.onStart(step, totalSteps);
        }
        long t0 = System.nanoTime();
        long stepsDone = 0;
        try {
            while (step < totalSteps) {
                if (Thread.interrupted()) {
                    String where = saveLast();
                    h.stop(History.StopReason.INTERRUPTED, "interrupted before step " + (step + 1) + where);
                    return h;
                }
                if (cfg.timeLimit != null && System.nanoTime() - t0 >= cfg.timeLimit.toNanos()) {
                    if (!h.rows().isEmpty() && Double.isNaN(h.rows().get(h.rows().size() - 1).valLoss())) {
                        evaluateInto(h);
                    }
                    String where = saveLast();
                    h.stop(History.StopReason.TIME_LIMIT, "time limit " + cfg.timeLimit + " reached after step " + step + where);
                    return h;
                }
                long s0 = System.nanoTime();
                double lr = optimizer.currentLr(reportGroup);
                model.train();
                optimizer.zeroGrad();
                RandomGenerator rng = stepRng(cfg.seed, step);
                double lossSum = 0;
                long tokens = 0;
                for (int a = 0; a < cfg.accumulation; a++) {
                    Objective.StepLoss sl = objective.trainLoss(rng, cfg.batchSize);
                    double v = sl.loss().item();
                    if (!Double.isFinite(v)) {
                        throw nonFinite(h, "loss " + v);
                    }
                    Tensor l = cfg.accumulation == 1 ? sl.loss() : sl.loss().mul(1.0 / cfg.accumulation);
                    l.backward();
                    lossSum += v;
                    tokens += sl.tokens();
                }
                double norm = optimizer.clipGradNorm(cfg.clipNorm > 0 ? cfg.clipNorm : Double.MAX_VALUE);
                if (!Double.isFinite(norm)) {
                    throw nonFinite(h, "gradient norm " + norm);
                }
                optimizer.step();
                step++;
                stepsDone++;
                double dt = (System.nanoTime() - s0) * 1e-9;
                double loss = lossSum / cfg.accumulation;
                h.add(new History.Row(step, loss, Double.NaN, Double.NaN, lr, tokens / dt));
                double avg = (System.nanoTime() - t0) * 1e-9 / stepsDone;
                var p = new TrainListener.Progress(step, totalSteps, loss, lr, 1 / avg, tokens / dt, avg * (totalSteps - step));
                for (TrainListener l : cfg.listeners) {
                    l.onStep(p);
                }
                if ((cfg.evalEvery > 0 && step % cfg.evalEvery == 0) || step == totalSteps) {
                    evaluateInto(h);
                }
            }
            h.stop(History.StopReason.COMPLETED, "");
            return h;
        } finally {
            for (TrainListener l : cfg.listeners) {
                l.onEnd(h);
            }
        }
    }

    private NonFiniteLossException nonFinite(History h, String what) {
        optimizer.zeroGrad();
        long bad = step + 1;
        String ck = cfg.checkpointDir == null ? "no checkpoint directory"
                : lastGoodCheckpointStep < 0 ? "no checkpoint written yet"
                : "last good checkpoint: " + cfg.checkpointDir.resolve(LAST) + " (step " + lastGoodCheckpointStep + ")";
        String msg = "Trainer: non-finite " + what + " at step " + bad + "; parameters left at step " + step + "; " + ck;
        h.stop(History.StopReason.NON_FINITE, msg);
        return new NonFiniteLossException(msg, bad, h);
    }

    private void evaluateInto(History h) {
        Objective.Metrics m = evaluate();
        History.Row last = h.rows().get(h.rows().size() - 1);
        History.Row r = new History.Row(last.step(), last.trainLoss(), m.loss(), m.accuracy(), last.lr(), last.tokensPerSecond());
        h.replaceLast(r);
        for (TrainListener l : cfg.listeners) {
            l.onEval(r);
        }
        if (cfg.checkpointDir != null && Double.isFinite(m.loss())) {
            saveLast();
            if (m.loss() < bestVal) {
                bestVal = m.loss();
                save(cfg.checkpointDir.resolve(BEST));
            }
        }
    }

    /** Evaluates the model (eval mode, no grad); restores training mode. */
    public Objective.Metrics evaluate() {
        boolean was = model.isTraining();
        model.eval();
        try (var g = Tensor.noGrad()) {
            return objective.evaluate();
        } finally {
            if (was) {
                model.train();
            }
        }
    }

    private String saveLast() {
        if (cfg.checkpointDir == null) {
            return "";
        }
        Path p = cfg.checkpointDir.resolve(LAST);
        save(p);
        return "; checkpoint " + p;
    }

    /** Writes model, optimizer state and the trainer position to {@code file}, atomically. */
    public void save(Path file) {
        Map<String, Tensor> all = new LinkedHashMap<>();
        model.stateDict().forEach((k, v) -> all.put(MODEL_PREFIX + k, v));
        optimizer.stateDict().forEach((k, v) -> all.put(OPTIM_PREFIX + k, v));
        Map<String, String> meta = Map.of("format", "longconv4j-trainer-1", "step", Long.toString(step), "seed",
                Long.toString(cfg.seed), "best_val_loss", Double.toString(bestVal), "total_steps", Long.toString(totalSteps));
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            TensorFiles.save(file, all, meta);
        } catch (IOException e) {
            throw new UncheckedIOException("Trainer: cannot write checkpoint " + file, e);
        }
        lastGoodCheckpointStep = step;
    }

    /**
     * Loads model, optimizer state and step from a checkpoint written by {@link #save} (by a trainer
     * with the same model shape); {@link #fit()} then continues from that step. Returns {@code this}.
     */
    public Trainer resume(Path file) throws IOException {
        TensorFiles.Loaded ck = TensorFiles.load(file);
        String fmt = ck.metadata().get("format");
        if (!"longconv4j-trainer-1".equals(fmt)) {
            throw new IllegalArgumentException("Trainer.resume: " + file + " is not a trainer checkpoint (format=" + fmt + ")");
        }
        Map<String, Tensor> m = new LinkedHashMap<>();
        Map<String, Tensor> o = new LinkedHashMap<>();
        ck.tensors().forEach((k, v) -> {
            if (k.startsWith(MODEL_PREFIX)) {
                m.put(k.substring(MODEL_PREFIX.length()), v);
            } else if (k.startsWith(OPTIM_PREFIX)) {
                o.put(k.substring(OPTIM_PREFIX.length()), v);
            }
        });
        model.loadStateDict(m);
        optimizer.loadStateDict(o);
        step = Long.parseLong(ck.metadata().get("step"));
        bestVal = Double.parseDouble(ck.metadata().getOrDefault("best_val_loss", "Infinity"));
        lastGoodCheckpointStep = step;
        return this;
    }

    @Override
    public String toString() {
        return "Trainer(step " + step + "/" + totalSteps + ", batch " + cfg.batchSize + "x" + cfg.accumulation + ", lr " + cfg.lr
                + ", groups " + optimizer.groups().stream().map(ParamGroup::name).toList() + ")";
    }
}
