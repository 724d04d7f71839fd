// Locates real datasets for tests through the -Dlongconv4j.data directory (set by surefire); never downloads.
package ai.longconv4j.data;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Path;

final class RealData {
    private RealData() {}

    /** The tiny Shakespeare file from the data directory; fails with a message saying how to provide it. */
    static Path tinyShakespeare() {
        Datasets d = Datasets.builder().download(false).cacheDir(Path.of("/nonexistent-longconv4j-cache")).build();
        if (d.dataDir() == null)
            fail("tests need the real data directory: run with -D" + Datasets.DATA_PROPERTY + "=/path/to/shared/data or set "
                    + Datasets.DATA_ENV + " (layout <dir>/tinyshakespeare/input.txt)");
        try {
            return d.path("tinyshakespeare");
        } catch (IOException e) {
            return fail("tiny Shakespeare is not in " + d.dataDir() + ": " + e.getMessage()
                    + "\n(set -D" + Datasets.DATA_PROPERTY + " or " + Datasets.DATA_ENV + " to the directory holding tinyshakespeare/input.txt)");
        }
    }
}
