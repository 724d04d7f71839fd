// The kernel's own log: the JVM's original stderr, never the notebook. No tensor shapes here.
package ai.longconv4j.kernel;

import java.io.PrintStream;
import java.time.LocalTime;

/**
 * Kernel log lines on the stderr the JVM started with (Jupyter shows it in the server's terminal).
 * {@code LONGCONV4J_LOG=debug} adds debug lines. Nothing logged here contains the connection key.
 */
final class Log {
    private static final PrintStream ERR = System.err;
    private static final boolean DEBUG = "debug".equalsIgnoreCase(System.getenv("LONGCONV4J_LOG"));

    private Log() { }

    static void warn(String msg) {
        ERR.println("[longconv4j " + LocalTime.now() + " WARN] " + msg);
        ERR.flush();
    }

    static void info(String msg) {
        ERR.println("[longconv4j " + LocalTime.now() + " INFO] " + msg);
        ERR.flush();
    }

    static void debug(String msg) {
        if (DEBUG) info(msg);
    }
}
