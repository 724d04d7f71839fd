// Starts the JDK's jshell tool with the library on the class path and the kernel's imports. No shapes.
package ai.longconv4j.kernel;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code jshell [--script] [FILE.jsh ...] [jshell options]}: runs {@code $JAVA_HOME/bin/jshell} with the
 * kernel's class path, the default startup plus {@link Imports#startup}, and native access enabled.
 * With {@code --script} the files run non-interactively and jshell exits afterwards (exit code 0, or
 * the code passed to {@code /exit N} in the script).
 */
public final class JShellLauncher {
    private JShellLauncher() { }

    static int launch(List<String> args) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command(args)).inheritIO().start();
        return p.waitFor();
    }

    /** The jshell command line. */
    static List<String> command(List<String> args) throws IOException {
        boolean script = args.contains("--script");
        var rest = new ArrayList<>(args);
        rest.remove("--script");
        Path startup = Files.createTempFile("longconv4j-imports", ".jsh");
        Files.write(startup, Imports.startup(JShellLauncher.class.getClassLoader()));
        startup.toFile().deleteOnExit();
        var cmd = new ArrayList<String>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "jshell").toString());
        cmd.add("--class-path");
        cmd.add(String.join(File.pathSeparator, Engine.classPath()));
        cmd.add("--startup");
        cmd.add("DEFAULT");
        cmd.add("--startup");
        cmd.add(startup.toString());
        cmd.add("-R--enable-native-access=ALL-UNNAMED");
        cmd.add("-R-Djava.awt.headless=true");
        cmd.addAll(rest);
        if (script) {
            Path exit = Files.createTempFile("longconv4j-exit", ".jsh");
            Files.writeString(exit, "/exit\n");
            exit.toFile().deleteOnExit();
            cmd.add(exit.toString());
        }
        return cmd;
    }
}
