// System.out / System.err / System.in of a kernel JVM, routed to the running cell. No tensor shapes here.
package ai.longconv4j.kernel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Replaces {@code System.out}, {@code System.err} and {@code System.in} so that output of any thread
 * reaches the current {@link CellOutput} live (flushed every {@link #FLUSH_MS} ms, at 8 KiB, and at the
 * end of each cell) and reads from System.in become input requests to the frontend.
 */
final class StreamRouter {
    /** Period of the background flush: output appears while a cell still runs. */
    static final int FLUSH_MS = 50;
    private static final int MAX_BUFFER = 8192;

    private final Sink out = new Sink("stdout");
    private final Sink err = new Sink("stderr");
    private final ScheduledExecutorService flusher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "stream-flusher");
        t.setDaemon(true);
        return t;
    });

    /** Installs the routed streams as System.out/err/in. */
    void install() {
        System.setOut(new PrintStream(out, false, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, false, StandardCharsets.UTF_8));
        System.setIn(new Input());
        flusher.scheduleWithFixedDelay(this::flush, FLUSH_MS, FLUSH_MS, TimeUnit.MILLISECONDS);
    }

    /** Sends everything buffered (called before a cell's result and status idle). */
    void flush() {
        System.out.flush();
        System.err.flush();
        out.drain();
        err.drain();
    }

    /** Bytes of one stream, decoded as UTF-8 when drained (an unfinished multi-byte char waits). */
    static final class Sink extends OutputStream {
        private final String name;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        Sink(String name) {
            this.name = name;
        }

        @Override
        public void write(int b) {
            boolean full;
            synchronized (this) {
                buf.write(b);
                full = buf.size() >= MAX_BUFFER;
            }
            if (full) drain();
        }

        @Override
        public void write(byte[] b, int off, int len) {
            boolean full;
            synchronized (this) {
                buf.write(b, off, len);
                full = buf.size() >= MAX_BUFFER;
            }
            if (full) drain();
        }

        /**
         * Sends the buffered text. Taking it and publishing it happen under one lock: otherwise the background
         * flusher could take the text, lose the CPU, and publish it after the cell's final flush had found the
         * buffer empty and the kernel had already said idle (seen in CI under load: a {@code println} missing
         * from its cell's outputs).
         */
        synchronized void drain() {
            if (buf.size() == 0) return;
            byte[] all = buf.toByteArray();
            int end = completeUtf8(all);
            String text = new String(all, 0, end, StandardCharsets.UTF_8);
            buf.reset();
            buf.write(all, end, all.length - end);
            CellOutput o = Notebook.output();
            if (o != null && !text.isEmpty()) o.stream(name, text);
        }

        /** Length of the prefix that does not end inside a multi-byte UTF-8 sequence. */
        private static int completeUtf8(byte[] b) {
            int n = b.length;
            for (int back = 1; back <= 3 && n - back >= 0; back++) {
                int c = b[n - back] & 0xFF;
                if ((c & 0xC0) == 0x80) continue;       // continuation byte
                int need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
                return need > back ? n - back : n;
            }
            return n;
        }
    }

    /** System.in: each empty-buffer read asks the frontend for one line. */
    private static final class Input extends InputStream {
        private byte[] line = new byte[0];
        private int pos;

        @Override
        public synchronized int read() throws IOException {
            if (!fill()) return -1;
            return line[pos++] & 0xFF;
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            if (!fill()) return -1;
            int n = Math.min(len, line.length - pos);
            System.arraycopy(line, pos, b, off, n);
            pos += n;
            return n;
        }

        @Override
        public synchronized int available() {
            return line.length - pos;
        }

        private boolean fill() throws IOException {
            if (pos < line.length) return true;
            CellOutput o = Notebook.output();
            if (o == null) return false;
            System.out.flush();
            String s = o.readLine("", false);
            if (s == null) return false;
            line = (s + "\n").getBytes(StandardCharsets.UTF_8);
            pos = 0;
            return true;
        }
    }
}
