// Tests for dataset lookup and verified downloads against a local HTTP server (no internet here).
package ai.longconv4j.data;

import static org.junit.jupiter.api.Assertions.*;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
    static final byte[] BODY = "To be, or not to be, that is the question.\n".repeat(50).getBytes(StandardCharsets.UTF_8);
    // SHA-256 of BODY, computed with Python hashlib outside Java (independent of Datasets.sha256)
    static final String BODY_SHA = "cb6ad7b006107f914d3b4e4b0b6a37954e4c2d80004e843267444cfc792e4b66";

    @TempDir
    Path dir;
    HttpServer server;
    final AtomicInteger hits = new AtomicInteger();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/ok.txt", ex -> {
            hits.incrementAndGet();
            ex.sendResponseHeaders(200, BODY.length);
            try (var out = ex.getResponseBody()) {
                out.write(BODY);
            }
        });
        server.createContext("/missing.txt", ex -> {
            ex.sendResponseHeaders(404, -1);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    Datasets.Builder builder(Datasets.Spec spec) {
        return Datasets.builder().dataDir(null).cacheDir(dir.resolve("cache")).register(spec);
    }

    @Test
    void sha256MatchesExternallyComputedValue() throws IOException {
        Path f = dir.resolve("b.txt");
        Files.write(f, BODY);
        assertEquals(BODY_SHA, Datasets.sha256(f));
    }

    @Test
    void downloadsVerifiesAndCachesAtomically() throws IOException {
        var spec = new Datasets.Spec("toy", "ok.txt", url("/ok.txt"), BODY.length, BODY_SHA);
        Datasets d = builder(spec).build();
        Path p = d.path("toy");
        assertEquals(dir.resolve("cache/toy/ok.txt"), p);
        assertArrayEquals(BODY, Files.readAllBytes(p));
        assertEquals(1, hits.get());
        assertEquals(List.of("ok.txt"), listNames(p.getParent()), "no temp files left");
        // second lookup is served from the cache
        assertEquals(p, d.path("toy"));
        assertEquals(1, hits.get());
    }

    @Test
    void wrongChecksumIsAClearErrorAndLeavesNothing() throws IOException {
        String wrong = "0".repeat(64);
        var spec = new Datasets.Spec("toy", "ok.txt", url("/ok.txt"), BODY.length, wrong);
        var e = assertThrows(IOException.class, () -> builder(spec).build().path("toy"));
        assertTrue(e.getMessage().contains("SHA-256 mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains(BODY_SHA), e.getMessage());
        assertEquals(List.of(), listNames(dir.resolve("cache/toy")), "corrupt download removed");
    }

    @Test
    void wrongSizeAndHttpErrorsAreClear() throws IOException {
        var badSize = new Datasets.Spec("toy", "ok.txt", url("/ok.txt"), BODY.length + 1, BODY_SHA);
        var e1 = assertThrows(IOException.class, () -> builder(badSize).build().path("toy"));
        assertTrue(e1.getMessage().contains("size mismatch"), e1.getMessage());
        var missing = new Datasets.Spec("gone", "missing.txt", url("/missing.txt"), 10, BODY_SHA);
        var e2 = assertThrows(IOException.class, () -> builder(missing).build().path("gone"));
        assertTrue(e2.getMessage().contains("HTTP status 404"), e2.getMessage());
        assertEquals(List.of(), listNames(dir.resolve("cache/toy")));
    }

    @Test
    void dataDirWinsOverCacheAndDownload() throws IOException {
        var spec = new Datasets.Spec("toy", "ok.txt", url("/ok.txt"), BODY.length, BODY_SHA);
        Path local = dir.resolve("data/toy/ok.txt");
        Files.createDirectories(local.getParent());
        Files.write(local, BODY);
        assertEquals(local, builder(spec).dataDir(dir.resolve("data")).build().path("toy"));
        assertEquals(0, hits.get());
    }

    @Test
    void offlineMissingFileNamesEverythingSearched() {
        var spec = new Datasets.Spec("toy", "ok.txt", url("/ok.txt"), BODY.length, BODY_SHA);
        var e = assertThrows(IOException.class, () -> builder(spec).dataDir(dir.resolve("nowhere")).download(false).build().path("toy"));
        assertTrue(e.getMessage().contains(dir.resolve("nowhere/toy/ok.txt").toString()), e.getMessage());
        assertTrue(e.getMessage().contains(dir.resolve("cache/toy/ok.txt").toString()), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Datasets.defaults().path("no-such-dataset"));
    }

    @Test
    void realTinyShakespeareMatchesItsSpec() throws IOException {
        Path p = RealData.tinyShakespeare();
        Datasets.verify(Datasets.TINY_SHAKESPEARE, p); // size + SHA-256
        assertEquals(1_115_394L, Files.size(p));
    }

    static List<String> listNames(Path d) throws IOException {
        if (!Files.isDirectory(d)) return List.of();
        try (var s = Files.list(d)) {
            return s.map(x -> x.getFileName().toString()).sorted().toList();
        }
    }
}
