// Tests for atomic file replacement (no shapes involved).
package ai.longconv4j.io;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void replacesContentAndLeavesNoTempFiles() throws IOException {
        Path p = dir.resolve("sub/a.json");
        AtomicFiles.write(p, "one".getBytes());
        AtomicFiles.write(p, "two!".getBytes());
        assertEquals("two!", Files.readString(p));
        try (var s = Files.list(p.getParent())) {
            assertEquals(List.of("a.json"), s.map(x -> x.getFileName().toString()).toList());
        }
    }

    @Test
    void writtenFileGetsTheUmaskDefaultPermissionsNotOwnerOnly() throws IOException {
        Assumptions.assumeTrue(Files.getFileAttributeView(dir, PosixFileAttributeView.class) != null, "no POSIX permissions here");
        Path plain = Files.createFile(dir.resolve("plain"));
        Path p = dir.resolve("atomic");
        AtomicFiles.write(p, new byte[] {1});
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(p));
    }

    @Test
    void tempNamesAreUniqueAndHidden() throws IOException {
        Path a = AtomicFiles.createTemp(dir, "x.bin", ".tmp"), b = AtomicFiles.createTemp(dir, "x.bin", ".tmp");
        assertNotEquals(a, b);
        assertTrue(a.getFileName().toString().startsWith(".x.bin.") && a.toString().endsWith(".tmp"));
    }
}
