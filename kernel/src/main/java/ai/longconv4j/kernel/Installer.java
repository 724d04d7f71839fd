// Writes and removes the Jupyter kernelspec (kernel.json + logos). No tensor shapes here.
package ai.longconv4j.kernel;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code install} / {@code uninstall}. The kernelspec starts the kernel with the java that ran the
 * installer (so Java 25+), {@code --enable-native-access=ALL-UNNAMED} (JCuda, FFM bindings), a heap
 * limit ({@code -XX:MaxRAMPercentage=70} unless {@code --jvm-opts} gives {@code -Xmx}), the open that lets
 * the engine prune JShell's class files, {@code interrupt_mode: message}, and (unless {@code --no-aot})
 * a JDK 25 AOT cache next to kernel.json, trained at install time by {@link AotTraining}: classes
 * loaded from the cache and method profiles for the JIT, so the kernel starts and warms up faster
 * (the vector module's {@code --add-modules} keeps the JVM from using pre-linked classes).
 */
public final class Installer {
    /** Default kernelspec name. */
    public static final String NAME = "longconv4j";
    /** Heap share of physical memory when no -Xmx is given. */
    static final String DEFAULT_HEAP = "-XX:MaxRAMPercentage=70";
    /** Lets {@link ReplClasses} prune JShell's class files (the jar's manifest says the same for {@code java -jar}). */
    public static final String OPEN_JSHELL = "--add-opens=jdk.jshell/jdk.jshell=ALL-UNNAMED";
    /** File name of the AOT cache next to kernel.json. */
    static final String AOT_CACHE = "longconv4j-kernel.aot";

    private Installer() { }

    static int install(List<String> args) throws IOException {
        var o = Options.parse(args);
        Path dir = kernelsDir(o).resolve(o.name);
        write(dir, o.displayName, o.jvmOpts, launchArgs(), o.env, o.aot);
        System.out.println("installed kernelspec " + o.name + " in " + dir);
        return 0;
    }

    static int uninstall(List<String> args) throws IOException {
        var o = Options.parse(args);
        Path dir = kernelsDir(o).resolve(o.name);
        if (!Files.isDirectory(dir)) {
            System.err.println("no kernelspec " + o.name + " in " + dir.getParent());
            return 1;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
        System.out.println("removed " + dir);
        return 0;
    }

    /**
     * Writes {@code dir/kernel.json} and the logos.
     *
     * @param launch the arguments after the JVM options that start {@link Main} (e.g. {@code -jar JAR})
     */
    public static void write(Path dir, String displayName, List<String> jvmOpts, List<String> launch, List<String> env) throws IOException {
        write(dir, displayName, jvmOpts, launch, env, true);
    }

    /**
     * Like {@link #write(Path, String, List, List, List)}; with {@code aot} and a {@code -jar} launch, first
     * trains an AOT cache ({@link AotTraining}, about half a minute) in {@code dir} and starts the kernel with it.
     */
    public static void write(Path dir, String displayName, List<String> jvmOpts, List<String> launch, List<String> env, boolean aot) throws IOException {
        Files.createDirectories(dir);
        Files.deleteIfExists(dir.resolve("longconv4j-kernel.jsa"));   // the AppCDS archive of earlier versions
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        var flags = new ArrayList<String>();
        if (jvmOpts.stream().noneMatch(s -> s.startsWith("-Xmx") || s.startsWith("-XX:MaxRAM"))) flags.add(DEFAULT_HEAP);
        flags.add("--enable-native-access=ALL-UNNAMED");
        flags.add(OPEN_JSHELL);
        flags.addAll(DirectExpressions.JVM_FLAGS);   // expressions in one javac task
        flags.add("-Djava.awt.headless=true");
        flags.add("--add-modules=jdk.incubator.vector");   // lets netlib BLAS use its Vector API kernels
        flags.add("-XX:+UseSerialGC");
        flags.addAll(jvmOpts);
        var argv = new JsonArray();
        argv.add(java);
        flags.forEach(argv::add);
        if (aot && launch.contains("-jar")) {   // an AOT cache needs a class path of jars only
            Path cache = dir.toAbsolutePath().resolve(AOT_CACHE);
            System.out.println("training the AOT cache " + cache + " (runs " + AotTraining.ROUNDS + " rounds of sample cells)");
            long t0 = System.nanoTime();
            if (AotTraining.train(java, flags, launch, cache)) {
                argv.add("-XX:AOTCache=" + cache);
                argv.add("-Xlog:aot=off,cds=off");   // a stale cache (jar rebuilt) is ignored quietly; reinstall to refresh
                System.out.printf("AOT cache ready (%.0f s)%n", (System.nanoTime() - t0) / 1e9);
            } else {
                System.out.println("AOT cache training failed: the kernel starts without one (slower first cells)");
            }
        }
        launch.forEach(argv::add);
        argv.add("kernel");
        argv.add("{connection_file}");
        var spec = new JsonObject();
        spec.add("argv", argv);
        spec.addProperty("display_name", displayName);
        spec.addProperty("language", "java");
        spec.addProperty("interrupt_mode", "message");
        var envObj = new JsonObject();
        for (String kv : env) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("install: --env expects NAME=VALUE, got " + kv);
            envObj.addProperty(kv.substring(0, eq), kv.substring(eq + 1));
        }
        if (!env.isEmpty()) spec.add("env", envObj);
        var md = new JsonObject();
        md.addProperty("debugger", false);
        spec.add("metadata", md);
        Files.writeString(dir.resolve("kernel.json"), new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(spec));
        for (int size : new int[]{32, 64}) ImageIO.write(logo(size), "png", dir.resolve("logo-" + size + "x" + size + ".png").toFile());
    }

    /** How to start Main: {@code -jar JAR} when running from the kernel jar, else {@code -cp CLASSPATH Main}. */
    static List<String> launchArgs() {
        try {
            Path self = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isRegularFile(self) && self.toString().endsWith(".jar")) return List.of("-jar", self.toAbsolutePath().toString());
        } catch (URISyntaxException | SecurityException ignored) {
            // fall back to the class path
        }
        var cp = String.join(File.pathSeparator, Engine.classPath().stream().map(p -> Path.of(p).toAbsolutePath().toString()).toList());
        return List.of("-cp", cp, Main.class.getName());
    }

    /** {@code <prefix>/share/jupyter/kernels}, or the user's Jupyter data dir's {@code kernels}. */
    static Path kernelsDir(Options o) {
        if (o.prefix != null) return o.prefix.resolve("share/jupyter/kernels");
        String data = System.getenv("JUPYTER_DATA_DIR");
        if (data != null && !data.isBlank()) return Path.of(data, "kernels");
        Path home = Path.of(System.getProperty("user.home"));
        if (System.getProperty("os.name", "").toLowerCase().contains("mac")) return home.resolve("Library/Jupyter/kernels");
        String xdg = System.getenv("XDG_DATA_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : home.resolve(".local/share")).resolve("jupyter/kernels");
    }

    static BufferedImage logo(int size) {
        var img = new BufferedImage(size, size, BufferedImage.TYPE_INT_ARGB);
        var g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(new Color(0x1f3b57));
        g.fillRoundRect(0, 0, size, size, size / 4, size / 4);
        g.setColor(new Color(0xf0a030));
        int n = 8;
        for (int i = 0; i < n; i++) {   // a decaying long-convolution kernel as bars
            int h = (int) (size * 0.7 * Math.exp(-0.35 * i));
            g.fillRect(size / 8 + i * size * 3 / (4 * n), size * 7 / 8 - h, Math.max(1, size / (2 * n)), h);
        }
        g.setColor(Color.WHITE);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, size / 4));
        g.drawString("J", size * 3 / 4 - size / 16, size / 3);
        g.dispose();
        return img;
    }

    /** Parsed options of install / uninstall. */
    static final class Options {
        Path prefix;
        String name = NAME;
        String displayName = "Java (longconv4j)";
        final List<String> jvmOpts = new ArrayList<>();
        final List<String> env = new ArrayList<>();
        boolean aot = true;

        static Options parse(List<String> args) {
            var o = new Options();
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                switch (a) {
                    case "--user" -> o.prefix = null;
                    case "--prefix" -> o.prefix = Path.of(value(args, ++i, a));
                    case "--name" -> o.name = value(args, ++i, a);
                    case "--display-name" -> o.displayName = value(args, ++i, a);
                    case "--jvm-opts" -> o.jvmOpts.addAll(List.of(value(args, ++i, a).trim().split("\\s+")));
                    case "--env" -> o.env.add(value(args, ++i, a));
                    case "--no-aot" -> o.aot = false;
                    default -> throw new IllegalArgumentException("install: unknown option " + a);
                }
            }
            o.jvmOpts.removeIf(String::isBlank);
            return o;
        }

        private static String value(List<String> args, int i, String opt) {
            if (i >= args.size()) throw new IllegalArgumentException("install: " + opt + " needs a value");
            return args.get(i);
        }
    }
}
