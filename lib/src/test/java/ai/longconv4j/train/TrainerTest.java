// Shape legend: B batch, L length (16), V vocabulary (8); a tiny H3 LM on associative recall.
package ai.longconv4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.data.SyntheticTasks;
import ai.longconv4j.data.TaskData;
import ai.longconv4j.io.TensorFiles;
import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    private static final TaskData TRAIN = SyntheticTasks.associativeRecall(8, 16, 64, Rng.seeded(1));
    private static final TaskData VAL = SyntheticTasks.associativeRecall(8, 16, 16, Rng.seeded(2));

    /** Kernel dropout 0: module-held dropout generators are not checkpointed, see Trainer's class comment. */
    private static LongConvLM model() {
        return LongConvLM.builder().vocab(8).width(8).layers(1).length(16).kernelDropout(0).seed(5).build();
    }

    private static Trainer.Builder trainer(LongConvLM lm, long steps) {
        return Trainer.builder().model(lm).objective(Objectives.sequenceTask(lm, TRAIN, VAL, 16)).steps(steps).batchSize(4)
                .lr(3e-3).warmup(2).seed(7);
    }

    @Test
    void sameSeedSameLossCurve() {
        double[] a = trainer(model(), 6).build().fit().trainLosses();
        double[] b = trainer(model(), 6).build().fit().trainLosses();
        assertArrayEquals(a, b);
        double[] c = trainer(model(), 6).seed(8).build().fit().trainLosses();
        assertFalse(java.util.Arrays.equals(a, c), "another seed gave the same curve");
    }

    @Test
    void resumeContinuesTheSameCurve(@TempDir Path dir) throws Exception {
        double[] straight = trainer(model(), 8).build().fit().trainLosses();
        // run 4 of the 8 steps: stop by interrupting after step 4, which writes last.safetensors
        var t1 = trainer(model(), 8).checkpointDir(dir).listener(new TrainListener() {
            @Override
            public void onStep(Progress p) {
                if (p.step() == 4) {
                    Thread.currentThread().interrupt();
                }
            }
        }).build();
        History h1 = t1.fit();
        assertEquals(History.StopReason.INTERRUPTED, h1.stopReason());
        assertEquals(4, h1.rows().size());
        var t2 = trainer(model(), 8).build().resume(dir.resolve(Trainer.LAST));
        assertEquals(4, t2.step());
        History h2 = t2.fit();
        double[] resumed = new double[8];
        System.arraycopy(h1.trainLosses(), 0, resumed, 0, 4);
        System.arraycopy(h2.trainLosses(), 0, resumed, 4, 4);
        assertArrayEquals(straight, resumed);
    }

    @Test
    void interruptStopsAndClearsTheFlag() {
        var h = trainer(model(), 50).listener(new TrainListener() {
            @Override
            public void onStep(Progress p) {
                if (p.step() == 3) {
                    Thread.currentThread().interrupt();
                }
            }
        }).build().fit();
        assertEquals(History.StopReason.INTERRUPTED, h.stopReason());
        assertEquals(3, h.rows().size());
        assertTrue(h.stopMessage().contains("before step 4"), h.stopMessage());
        assertFalse(Thread.currentThread().isInterrupted());
    }

    @Test
    void nanLossStopsNamingTheStepAndKeepsLastGoodCheckpoint(@TempDir Path dir) throws Exception {
        var lm = model();
        Objective inner = Objectives.sequenceTask(lm, TRAIN, VAL, 16);
        int[] calls = {0};
        Objective poisoned = new Objective() {
            @Override
            public StepLoss trainLoss(RandomGenerator rng, int batchSize) {
                StepLoss s = inner.trainLoss(rng, batchSize);
                return ++calls[0] == 5 ? new StepLoss(s.loss().mul(Double.NaN), s.tokens()) : s;
            }

            @Override
            public Metrics evaluate() {
                return inner.evaluate();
            }

            @Override
            public long trainExamples() {
                return inner.trainExamples();
            }
        };
        var t = Trainer.builder().model(lm).objective(poisoned).steps(10).batchSize(4).evalEvery(2).checkpointDir(dir).seed(7).build();
        var e = assertThrows(NonFiniteLossException.class, t::fit);
        assertEquals(5, e.step());
        assertTrue(e.getMessage().contains("at step 5") && e.getMessage().contains("(step 4)"), e.getMessage());
        assertEquals(History.StopReason.NON_FINITE, e.history().stopReason());
        var ck = TensorFiles.load(dir.resolve(Trainer.LAST));
        assertEquals("4", ck.metadata().get("step"));
        for (Tensor v : ck.tensors().values()) {
            for (double d : v.toDoubleArray()) {
                assertTrue(Double.isFinite(d));
            }
        }
        // the parameters were not touched by the bad step: they equal the step-4 checkpoint
        var expect = ck.tensors().get("model.blocks.0.fc1.weight").toFloatArray();
        assertArrayEquals(expect, lm.stateDict().get("blocks.0.fc1.weight").toFloatArray());
        assertTrue(Files.exists(dir.resolve(Trainer.BEST)));
    }

    @Test
    void historyTablePlotAndProgress(@TempDir Path dir) throws Exception {
        var bytes = new ByteArrayOutputStream();
        var lm = model();
        var h = trainer(lm, 6).evalEvery(3).accumulation(2).listener(new TerminalProgress(new PrintStream(bytes), 0)).build().fit();
        var table = h.table();
        assertEquals(6, table.rowCount());
        assertEquals(java.util.List.of("step", "train_loss", "val_loss", "accuracy", "lr", "tokens_per_s"), table.columnNames());
        assertEquals(2, h.evaluations().size());
        assertTrue(table.doubleColumn("tokens_per_s").min() > 0);
        assertTrue(table.doubleColumn("val_loss").isMissing(0) && !table.doubleColumn("val_loss").isMissing(2));  // NaN = missing
        Path png = h.plot(dir.resolve("loss.png"));
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 4);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, head);
        String out = bytes.toString();
        assertTrue(out.contains("\r[") && out.contains("step 6/6") && out.contains("eval @ step 3") && out.contains("COMPLETED"), out);
    }

    @Test
    void learningHappensAndEpochsSetSteps() {
        var lm = model();
        double before = trainer(lm, 1).build().evaluate().loss();
        var t = Trainer.builder().model(lm).objective(Objectives.sequenceTask(lm, TRAIN, VAL, 16)).epochs(1).batchSize(8)
                .lr(5e-3).seed(3).build();
        assertEquals(8, t.totalSteps());               // 64 examples / 8
        var h = t.fit();
        assertTrue(h.evaluations().get(0).valLoss() < before, "val loss did not drop: " + before + " -> " + h);
    }

    @Test
    void timeLimitStopsAfterEvaluating() {
        var h = trainer(model(), 1000).timeLimit(java.time.Duration.ofMillis(300)).build().fit();
        assertEquals(History.StopReason.TIME_LIMIT, h.stopReason());
        assertTrue(h.rows().size() >= 1 && h.rows().size() < 1000, "rows " + h.rows().size());
        assertEquals(1, h.evaluations().size());
        assertEquals(h.rows().get(h.rows().size() - 1), h.evaluations().get(0));
    }

    @Test
    void builderValidation() {
        var lm = model();
        var o = Objectives.sequenceTask(lm, TRAIN, VAL, 16);
        var e = assertThrows(IllegalArgumentException.class, () -> Trainer.builder().model(lm).objective(o).build());
        assertTrue(e.getMessage().contains("steps"));
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder().model(lm).objective(o).steps(3).batchSize(0).build());
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder().model(lm).objective(o).steps(3).lr(-1).build());
        assertEquals(DType.F32, lm.dtype());
    }
}
