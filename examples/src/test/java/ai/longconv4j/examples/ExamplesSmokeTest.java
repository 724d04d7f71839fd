// Shape legend: tiny sizes only; these runs check that the example programs start, train and summarize.
package ai.longconv4j.examples;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

class ExamplesSmokeTest {
    private static String run(ThrowingMain main) throws Exception {
        PrintStream old = System.out;
        var bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true));
        try {
            main.run();
        } finally {
            System.setOut(old);
        }
        return bytes.toString();
    }

    interface ThrowingMain {
        void run() throws Exception;
    }

    @Test
    void associativeRecallRuns() throws Exception {
        String out = run(() -> TrainAssociativeRecall.main(new String[] {"--length=16", "--width=8", "--steps=2", "--train=16",
            "--test=8", "--batch=4", "--evalEvery=2", "--threads=1"}));
        assertTrue(out.contains("summary: 2 steps") && out.contains("final-token accuracy"), out);
    }

    @Test
    void listOpsRuns() throws Exception {
        String out = run(() -> TrainListOps.main(new String[] {"--minLength=10", "--maxLength=30", "--length=32", "--train=16",
            "--test=8", "--width=8", "--layers=1", "--steps=2", "--batch=4", "--threads=1"}));
        assertTrue(out.contains("summary: 2 steps") && out.contains("accuracy"), out);
    }

    @Test
    void unknownFlagIsRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> TrainAssociativeRecall.main(new String[] {"--stepz=3"}));
        assertTrue(e.getMessage().contains("unknown flag --stepz"), e.getMessage());
    }
}
