// Named datasets as local files: a configured data directory, then a user cache, then a verified download.
package ai.longconv4j.data;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Resolves a named dataset to a local file. Lookup order for {@code path(name)}:
 * <ol>
 *   <li>the data directory: system property {@value #DATA_PROPERTY}, else environment variable {@value #DATA_ENV};
 *       laid out as {@code <dir>/<name>/<file>} (e.g. {@code <dir>/tinyshakespeare/input.txt});</li>
 *   <li>the cache directory: system property {@value #CACHE_PROPERTY}, else {@value #CACHE_ENV}, else
 *       {@code $XDG_CACHE_HOME/longconv4j}, else {@code ~/.cache/longconv4j}; same layout;</li>
 *   <li>a download of the dataset's URL into the cache (temp file in the target directory, size and SHA-256
 *       verified, then an atomic rename; a mismatch deletes the temp file and throws).</li>
 * </ol>
 * Files found in the data or cache directory are checked by size (cheap); the SHA-256 is checked on download and
 * by {@link #verify}. Settings live on the instance (no global state); {@link #defaults()} reads the properties.
 *
 * <pre>{@code
 * jshell> Path p = Datasets.defaults().path("tinyshakespeare")
 * p ==> /work/shared/data/tinyshakespeare/input.txt
 * }</pre>
 */
public final class Datasets {
    public static final String DATA_PROPERTY = "longconv4j.data";
    public static final String DATA_ENV = "LONGCONV4J_DATA";
    public static final String CACHE_PROPERTY = "longconv4j.cache";
    public static final String CACHE_ENV = "LONGCONV4J_CACHE";

    /** A downloadable file: its directory name, file name, source URL, exact size and SHA-256 (lower-case hex). */
    public record Spec(String name, String fileName, URI url, long size, String sha256) {
        public Spec {
            if (sha256.length() != 64) throw new IllegalArgumentException("Datasets.Spec " + name + ": sha256 must be 64 hex digits");
            sha256 = sha256.toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** input.txt of the karpathy/char-rnn repository (1,115,394 bytes of Shakespeare). */
    public static final Spec TINY_SHAKESPEARE = new Spec("tinyshakespeare", "input.txt",
            URI.create("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"),
            1_115_394L, "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed");

    private final Path dataDir; // may be null
    private final Path cacheDir;
    private final boolean download;
    private final Duration timeout;
    private final Map<String, Spec> specs;

    private Datasets(Builder b) {
        dataDir = b.dataDir;
        cacheDir = b.cacheDir;
        download = b.download;
        timeout = b.timeout;
        specs = Map.copyOf(b.specs);
    }

    /** Settings from system properties / environment (see the class comment), downloads allowed. */
    public static Datasets defaults() {
        return builder().build();
    }

    /** Shortcut for {@code defaults().path(name)}. */
    public static Path get(String name) throws IOException {
        return defaults().path(name);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options; every field starts at the default described in the class comment. */
    public static final class Builder {
        private Path dataDir = fromSetting(DATA_PROPERTY, DATA_ENV);
        private Path cacheDir = defaultCache();
        private boolean download = true;
        private Duration timeout = Duration.ofMinutes(2);
        private final Map<String, Spec> specs = new LinkedHashMap<>(Map.of(TINY_SHAKESPEARE.name(), TINY_SHAKESPEARE));

        /** Data directory searched first; null for none. */
        public Builder dataDir(Path dir) {
            dataDir = dir;
            return this;
        }

        public Builder cacheDir(Path dir) {
            if (dir == null) throw new IllegalArgumentException("Datasets: cache directory must not be null");
            cacheDir = dir;
            return this;
        }

        /** Whether a missing file may be downloaded (false: fail with the places searched). */
        public Builder download(boolean allowed) {
            download = allowed;
            return this;
        }

        public Builder timeout(Duration t) {
            timeout = t;
            return this;
        }

        /** Adds or replaces a named dataset. */
        public Builder register(Spec spec) {
            specs.put(spec.name(), spec);
            return this;
        }

        public Datasets build() {
            return new Datasets(this);
        }
    }

    private static Path fromSetting(String property, String env) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) v = System.getenv(env);
        return v == null || v.isBlank() ? null : Path.of(v);
    }

    private static Path defaultCache() {
        Path p = fromSetting(CACHE_PROPERTY, CACHE_ENV);
        if (p != null) return p;
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) return Path.of(xdg, "longconv4j");
        return Path.of(System.getProperty("user.home"), ".cache", "longconv4j");
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path cacheDir() {
        return cacheDir;
    }

    /** The registered spec of {@code name}; unknown names list the known ones. */
    public Spec spec(String name) {
        Spec s = specs.get(name);
        if (s == null) throw new IllegalArgumentException("Datasets: unknown dataset \"" + name + "\"; known: " + specs.keySet());
        return s;
    }

    /** Local path of dataset {@code name}, downloading it into the cache if needed (see the class comment). */
    public Path path(String name) throws IOException {
        Spec s = spec(name);
        StringBuilder searched = new StringBuilder();
        if (dataDir != null) {
            Path p = dataDir.resolve(s.name()).resolve(s.fileName());
            if (usable(p, s, searched)) return p;
        } else {
            searched.append("\n  data dir: not set (-D").append(DATA_PROPERTY).append(" or ").append(DATA_ENV).append(')');
        }
        Path cached = cacheDir.resolve(s.name()).resolve(s.fileName());
        if (usable(cached, s, searched)) return cached;
        if (!download)
            throw new IOException("Datasets: " + name + " not found and downloads are off; searched:" + searched);
        try {
            return download(s, cached);
        } catch (IOException e) {
            throw new IOException("Datasets: could not download " + name + " from " + s.url() + " (" + e.getMessage() + "); searched:" + searched
                    + "\n  fix: put the file at <dir>/" + s.name() + "/" + s.fileName() + " and set -D" + DATA_PROPERTY + "=<dir>", e);
        }
    }

    private static boolean usable(Path p, Spec s, StringBuilder searched) throws IOException {
        if (!Files.isRegularFile(p)) {
            searched.append("\n  ").append(p).append(": missing");
            return false;
        }
        long size = Files.size(p);
        if (size != s.size()) {
            searched.append("\n  ").append(p).append(": ").append(size).append(" bytes, expected ").append(s.size()).append(" (ignored)");
            return false;
        }
        return true;
    }

    /** Downloads {@code s} to {@code target}: temp file in the same directory, verify, atomic rename. */
    Path download(Spec s, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        Path tmp = ai.longconv4j.io.AtomicFiles.createTemp(target.getParent(), s.fileName(), ".part");
        boolean done = false;
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NORMAL).build()) {
            HttpRequest req = HttpRequest.newBuilder(s.url()).timeout(timeout).GET().build();
            HttpResponse<InputStream> resp;
            try {
                resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            try (InputStream in = resp.body()) {
                if (resp.statusCode() != 200) throw new IOException("HTTP status " + resp.statusCode());
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            check(s, tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
            return target;
        } finally {
            if (!done) Files.deleteIfExists(tmp);
        }
    }

    /** Checks size and SHA-256 of {@code file} against {@code spec}; throws IOException naming both on mismatch. */
    public static void verify(Spec spec, Path file) throws IOException {
        check(spec, file);
    }

    private static void check(Spec s, Path file) throws IOException {
        long size = Files.size(file);
        if (size != s.size())
            throw new IOException("size mismatch for " + s.name() + ": got " + size + " bytes, expected " + s.size());
        String sha = sha256(file);
        if (!sha.equals(s.sha256()))
            throw new IOException("SHA-256 mismatch for " + s.name() + ": got " + sha + ", expected " + s.sha256());
    }

    /** Lower-case hex SHA-256 of a file. */
    public static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) md.update(buf, 0, r);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Override
    public String toString() {
        return "Datasets(data=" + dataDir + ", cache=" + cacheDir + ", download=" + download + ", known=" + specs.keySet() + ")";
    }
}
