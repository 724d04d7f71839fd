// A stream's text and the cell's final flush: no shapes.
package ai.longconv4j.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StreamRouterTest {
    @AfterEach
    void unbind() {
        Notebook.bind(null);
    }

    /**
     * The background flusher has taken the text and is still publishing it when the cell ends: the cell's final
     * drain must not return (and let the kernel say idle) before that text is out.
     */
    @Test
    void theFinalDrainWaitsForADrainInProgress() throws Exception {
        var events = new CopyOnWriteArrayList<String>();
        var publishing = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        Notebook.bind(new CellOutput() {
            @Override
            public void stream(String name, String text) {
                publishing.countDown();
                try {
                    release.await(5, TimeUnit.SECONDS);   // the flusher thread loses the CPU here
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                events.add("stream " + text.strip());
            }

            @Override
            public void display(DisplayData data, boolean update) { }

            @Override
            public String readLine(String prompt, boolean password) { return null; }
        });
        var sink = new StreamRouter.Sink("stdout");
        sink.write("hello, world\n".getBytes(StandardCharsets.UTF_8));
        Thread flusher = new Thread(sink::drain, "test-flusher");
        flusher.start();
        assertTrue(publishing.await(5, TimeUnit.SECONDS), "the flusher did not start publishing");
        Thread cellEnd = new Thread(() -> {
            sink.drain();
            events.add("idle");
        }, "test-cell-end");
        cellEnd.start();
        Thread.sleep(200);              // without the lock, the cell's drain finds the buffer empty and says idle now
        release.countDown();
        flusher.join(5000);
        cellEnd.join(5000);
        assertEquals(List.of("stream hello, world", "idle"), events);
    }
}
