// Atomic file replacement: write a temp file next to the target, force it to disk, rename over the target.
package ai.longconv4j.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes files so that readers see either the old content or the complete new content, never a partial file.
 * The temp file lives in the target's directory (a rename is only atomic within one file system) and is deleted
 * if anything fails, so on failure the existing target is untouched.
 *
 * <pre>{@code
 * jshell> AtomicFiles.write(Path.of("vocab.json"), ch -> ch.write(ByteBuffer.wrap("{}".getBytes())))
 * }</pre>
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Body that fills the temp file through its channel. */
    @FunctionalInterface
    public interface Writer {
        void write(FileChannel channel) throws IOException;
    }

    /** Writes {@code target} atomically through {@code body}; see the class comment. */
    public static void write(Path target, Writer body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = createTemp(dir, abs.getFileName().toString(), ".tmp");
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                body.write(ch);
                ch.force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
        } finally {
            if (!done) Files.deleteIfExists(tmp);
        }
    }

    /**
     * Creates a new empty file {@code .<name>.<random><suffix>} in {@code dir}. Unlike Files.createTempFile
     * (owner-only permissions) it gets the default permissions of the process umask, which the renamed file keeps.
     */
    public static Path createTemp(Path dir, String name, String suffix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            String r = Long.toUnsignedString(java.util.concurrent.ThreadLocalRandom.current().nextLong(), 36);
            try {
                return Files.createFile(dir.resolve("." + name + "." + r + suffix));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt > 100) throw e;
            }
        }
    }

    /** Writes {@code bytes} to {@code target} atomically. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, ch -> writeFully(ch, java.nio.ByteBuffer.wrap(bytes)));
    }

    /** Writes all remaining bytes of {@code buf} (a channel may write fewer than asked). */
    public static void writeFully(FileChannel ch, java.nio.ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }
}
