// Jupyter connection file. No tensor shapes here.
package ai.longconv4j.kernel.wire;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The fields of a Jupyter connection file. {@link #toString()} leaves the key out so it can be logged.
 */
public record ConnectionInfo(String transport, String ip, int shellPort, int controlPort, int stdinPort,
                             int hbPort, int iopubPort, String key, String signatureScheme) {

    /** Reads a connection file. */
    public static ConnectionInfo read(Path file) throws IOException {
        JsonObject o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        return new ConnectionInfo(str(o, "transport", "tcp"), str(o, "ip", "127.0.0.1"),
                o.get("shell_port").getAsInt(), o.get("control_port").getAsInt(), o.get("stdin_port").getAsInt(),
                o.get("hb_port").getAsInt(), o.get("iopub_port").getAsInt(), str(o, "key", ""),
                str(o, "signature_scheme", "hmac-sha256"));
    }

    private static String str(JsonObject o, String k, String dflt) {
        return o.has(k) && !o.get(k).isJsonNull() ? o.get(k).getAsString() : dflt;
    }

    /** ZeroMQ endpoint for a port: {@code tcp://IP:PORT}, or {@code ipc://IP-PORT} for the ipc transport. */
    public String endpoint(int port) {
        return "ipc".equals(transport) ? "ipc://" + ip + "-" + port : transport + "://" + ip + ":" + port;
    }

    @Override
    public String toString() {
        return "ConnectionInfo[" + transport + "://" + ip + " shell=" + shellPort + " control=" + controlPort
                + " stdin=" + stdinPort + " hb=" + hbPort + " iopub=" + iopubPort + " scheme=" + signatureScheme
                + " key=<hidden>]";
    }
}
