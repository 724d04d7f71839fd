// Tests for TextDataset: split boundaries, window layout (B, L+1), determinism under a seed, sequential windows.
package ai.longconv4j.data;

import static org.junit.jupiter.api.Assertions.*;

import ai.longconv4j.data.TextDataset.Split;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextDatasetTest {
    static TextDataset counting(int n, double frac) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = i % 50;
        return TextDataset.ofTokens(t, ByteTokenizer.INSTANCE, frac);
    }

    @Test
    void splitBoundariesByPosition() {
        var ds = counting(10, 0.9);
        assertEquals(9, ds.size(Split.TRAIN));
        assertEquals(1, ds.size(Split.VAL));
        assertEquals(9, ds.offset(Split.VAL));
        assertArrayEquals(new int[] {9}, ds.tokens(Split.VAL));
        assertEquals(0, counting(7, 0.0).size(Split.TRAIN));
        assertEquals(7, counting(7, 1.0).size(Split.TRAIN));
        assertEquals(3, counting(7, 0.5).size(Split.TRAIN)); // floor(3.5)
        assertThrows(IllegalArgumentException.class, () -> counting(7, 1.5));
        assertThrows(IllegalArgumentException.class, () -> TextDataset.ofTokens(new int[] {300}, ByteTokenizer.INSTANCE, 0.9));
    }

    @Test
    void windowsAreConsecutiveTokensAndTargetsShiftByOne() {
        var ds = counting(1000, 0.8);
        int B = 5, L = 17;
        Batch b = ds.batch(Split.VAL, B, L, new SplittableRandom(1));
        int[] x = b.inputs(), y = b.targets();
        assertEquals(B * L, x.length);
        for (int i = 0; i < B; i++) {
            int first = b.tokens()[i * (L + 1)];
            for (int t = 0; t < L; t++) {
                assertEquals((first + t) % 50, x[i * L + t]);
                assertEquals((first + t + 1) % 50, y[i * L + t]);
            }
        }
    }

    @Test
    void randomWindowsStayInsideTheirSplitAndCoverIt() {
        // tokens are their own positions, so a window shows where it came from
        int n = 300;
        int[] pos = new int[n];
        for (int i = 0; i < n; i++) pos[i] = i;
        var ds = TextDataset.ofTokens(pos, CharTokenizer.ofChars(charsUpTo(n), CharTokenizer.Unknown.ERROR), 0.9);
        int L = 9, nTrain = 270;
        boolean[] seenStart = new boolean[n];
        var rng = new SplittableRandom(5);
        for (int it = 0; it < 400; it++) {
            Batch tb = ds.batch(Split.TRAIN, 8, L, rng);
            for (int b = 0; b < 8; b++) {
                int s = tb.tokens()[b * (L + 1)];
                assertTrue(s >= 0 && s + L < nTrain, "train window " + s);
                seenStart[s] = true;
            }
            Batch vb = ds.batch(Split.VAL, 2, L, rng);
            for (int b = 0; b < 2; b++) assertTrue(vb.tokens()[b * (L + 1)] >= nTrain && vb.tokens()[b * (L + 1) + L] < n);
        }
        for (int s = 0; s + L < nTrain; s++) assertTrue(seenStart[s], "start " + s + " never drawn");
        assertFalse(seenStart[nTrain - L], "a window starting at nTrain - L would reach into val");
    }

    static String charsUpTo(int n) {
        var b = new StringBuilder();
        for (int i = 0; i < n; i++) b.appendCodePoint(0x4E00 + i);
        return b.toString();
    }

    @Test
    void sameSeedSameBatchesDifferentSeedDifferent() {
        var ds = counting(5000, 0.9);
        var a = ds.batch(Split.TRAIN, 4, 32, new SplittableRandom(42));
        var b = ds.batch(Split.TRAIN, 4, 32, new SplittableRandom(42));
        var c = ds.batch(Split.TRAIN, 4, 32, new SplittableRandom(43));
        assertEquals(a, b);
        assertNotEquals(a, c);
    }

    @Test
    void sequentialWindowsTileTheSplit() {
        var ds = counting(105, 1.0);
        int L = 10;
        assertEquals(10, ds.sequentialCount(Split.TRAIN, L)); // floor(104 / 10)
        Batch b0 = ds.sequential(Split.TRAIN, 4, L, 0), b2 = ds.sequential(Split.TRAIN, 4, L, 2);
        assertEquals(4, b0.batchSize());
        assertEquals(2, b2.batchSize(), "last batch is short");
        assertEquals(90 % 50, b2.tokens()[11]);
        assertThrows(IllegalArgumentException.class, () -> ds.sequential(Split.TRAIN, 4, L, 3));
        assertThrows(IllegalArgumentException.class, () -> ds.batch(Split.TRAIN, 1, 105, new SplittableRandom(0)));
    }

    @Test
    void fileWithCharVocabAndTinyShakespeareSplitLikeNanoGpt(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("t.txt");
        Files.writeString(f, "abcabcabcd");
        var small = TextDataset.of(f, null, 0.9);
        assertEquals(4, small.vocabSize());
        assertArrayEquals(new int[] {3}, small.tokens(Split.VAL));
        var ds = TextDataset.of(RealData.tinyShakespeare(), null, 0.9);
        assertEquals(1_003_854, ds.size(Split.TRAIN));
        assertEquals(111_540, ds.size(Split.VAL));
        assertEquals(65, ds.vocabSize());
        var bytes = TextDataset.of(RealData.tinyShakespeare(), ByteTokenizer.INSTANCE, 0.9);
        assertEquals(1_115_394, bytes.size(), "the file is ASCII: one byte per char");
    }
}
