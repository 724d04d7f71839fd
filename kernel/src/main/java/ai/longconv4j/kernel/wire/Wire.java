// Reading and writing Jupyter messages on ZeroMQ sockets. No tensor shapes here.
package ai.longconv4j.kernel.wire;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.zeromq.ZMQ;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Frames messages as {@code [ids..., "<IDS|MSG>", signature, header, parent, metadata, content, buffers...]}.
 * A message with a missing or wrong signature, or unparsable JSON, is dropped: {@link #read} returns null
 * and reports the reason (never the key or the signature) to the warning sink.
 */
public final class Wire {
    private static final byte[] DELIM = "<IDS|MSG>".getBytes(StandardCharsets.US_ASCII);
    /** Gson that keeps nulls (e.g. {@code "execution_count": null}) and does not escape HTML. */
    public static final Gson GSON = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();

    private final Signer signer;
    private final Consumer<String> warn;

    public Wire(Signer signer, Consumer<String> warn) {
        this.signer = signer;
        this.warn = warn;
    }

    /** Blocks for one multipart message; returns null if it was dropped (bad signature, malformed). */
    public Msg read(ZMQ.Socket socket) {
        List<byte[]> frames = new ArrayList<>();
        do {
            byte[] f = socket.recv(0);
            if (f == null) return null;
            frames.add(f);
        } while (socket.hasReceiveMore());
        int d = -1;
        for (int i = 0; i < frames.size(); i++) {
            if (Arrays.equals(frames.get(i), DELIM)) { d = i; break; }
        }
        if (d < 0 || frames.size() < d + 6) {
            warn.accept("dropped a malformed message (" + frames.size() + " frames, no complete <IDS|MSG> block)");
            return null;
        }
        String sig = new String(frames.get(d + 1), StandardCharsets.US_ASCII);
        byte[] h = frames.get(d + 2), p = frames.get(d + 3), m = frames.get(d + 4), c = frames.get(d + 5);
        if (!signer.verify(sig, h, p, m, c)) {
            warn.accept("dropped a message with a " + (sig.isEmpty() ? "missing" : "wrong") + " HMAC signature");
            return null;
        }
        try {
            return new Msg(List.copyOf(frames.subList(0, d)), obj(h), obj(p), obj(m), obj(c));
        } catch (RuntimeException e) {
            warn.accept("dropped a message with unparsable JSON: " + e.getClass().getSimpleName());
            return null;
        }
    }

    private static JsonObject obj(byte[] b) {
        var e = JsonParser.parseString(new String(b, StandardCharsets.UTF_8));
        return e.isJsonObject() ? e.getAsJsonObject() : new JsonObject();
    }

    /** Sends a message; {@code topic} replaces the identities (IOPub) when not null. */
    public void write(ZMQ.Socket socket, Msg msg, String topic) {
        byte[] h = bytes(msg.header()), p = bytes(msg.parent()), m = bytes(msg.metadata()), c = bytes(msg.content());
        List<byte[]> out = new ArrayList<>();
        if (topic != null) out.add(topic.getBytes(StandardCharsets.UTF_8));
        else out.addAll(msg.ids());
        out.add(DELIM);
        out.add(signer.sign(h, p, m, c).getBytes(StandardCharsets.US_ASCII));
        out.add(h);
        out.add(p);
        out.add(m);
        out.add(c);
        for (int i = 0; i < out.size(); i++) socket.send(out.get(i), i < out.size() - 1 ? ZMQ.SNDMORE : 0);
    }

    private static byte[] bytes(JsonObject o) {
        return GSON.toJson(o).getBytes(StandardCharsets.UTF_8);
    }
}
