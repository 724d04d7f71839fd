// Jupyter comms: targets user code registers, comms opened from either side, messages both ways. No tensor shapes.
package ai.longconv4j.kernel;

import ai.longconv4j.kernel.wire.Wire;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.reflect.TypeToken;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The comms of one kernel (Jupyter messaging: {@code comm_open}, {@code comm_msg}, {@code comm_close},
 * {@code comm_info_request}). User code registers a target; when the frontend opens a comm for it the
 * target's handler gets the {@link Comm} and the open message's data, and installs listeners for later
 * messages. Code can also open a comm itself ({@link #open}). Data travels as JSON objects, seen in
 * Java as {@code Map<String, Object>} (JSON numbers arrive as {@code Double}).
 * <pre>
 * jshell&gt; registerCommTarget("echo", (comm, data) -&gt; comm.onMessage(d -&gt; comm.send(Map.of("echo", d.get("x")))))
 * jshell&gt; var c = openComm("my.widget", Map.of("value", 1)); c.send(Map.of("value", 2)); c.close()
 * </pre>
 * Handlers run on the kernel's shell thread, one message at a time, also while a cell runs: keep them
 * short. An exception in a handler is logged and the comm stays open. A {@code comm_open} for a target
 * nobody registered is answered with a {@code comm_close}, as the protocol asks.
 */
public final class Comms {
    /** Handler of comms the frontend opens for one target name. */
    @FunctionalInterface
    public interface Target {
        void opened(Comm comm, Map<String, Object> data) throws Exception;
    }

    /** Sends one comm message to the frontend (on IOPub). */
    @FunctionalInterface
    interface Sender {
        void send(String msgType, JsonObject content);
    }

    private final Sender sender;
    private final Map<String, Target> targets = new ConcurrentHashMap<>();
    private final Map<String, Comm> open = new ConcurrentHashMap<>();

    Comms(Sender sender) {
        this.sender = sender;
    }

    /** Registers (replaces) the handler for comms the frontend opens with {@code targetName}. */
    public void registerTarget(String targetName, Target target) {
        if (targetName == null || targetName.isBlank()) throw new IllegalArgumentException("registerCommTarget: empty target name");
        targets.put(targetName, java.util.Objects.requireNonNull(target, "target"));
    }

    /** Removes a target; comms already open stay open. */
    public void unregisterTarget(String targetName) {
        targets.remove(targetName);
    }

    /** Opens a comm from the kernel side: the frontend gets a {@code comm_open} for {@code targetName}. */
    public Comm open(String targetName, Map<String, ?> data) {
        var comm = new Comm(UUID.randomUUID().toString(), targetName);
        open.put(comm.id, comm);
        JsonObject c = content(comm.id, data);
        c.addProperty("target_name", targetName);
        sender.send("comm_open", c);
        return comm;
    }

    /** The open comms as {@code comm_info_reply}'s {@code comms}, only those of {@code targetName} when not empty. */
    JsonObject info(String targetName) {
        var out = new JsonObject();
        for (Comm c : open.values()) {
            if (targetName != null && !targetName.isEmpty() && !targetName.equals(c.target)) continue;
            var o = new JsonObject();
            o.addProperty("target_name", c.target);
            out.add(c.id, o);
        }
        return out;
    }

    /** A {@code comm_open}, {@code comm_msg} or {@code comm_close} from the frontend. */
    void received(String msgType, JsonObject content) {
        String id = str(content, "comm_id");
        Map<String, Object> data = toMap(content.get("data"));
        switch (msgType) {
            case "comm_open" -> {
                String name = str(content, "target_name");
                Target t = targets.get(name);
                if (t == null) {
                    Log.warn("comm_open for unknown target '" + name + "': closing it");
                    sender.send("comm_close", content(id, Map.of()));
                    return;
                }
                var comm = new Comm(id, name);
                open.put(id, comm);
                run(() -> t.opened(comm, data), "target " + name);
            }
            case "comm_msg" -> {
                Comm c = open.get(id);
                if (c == null) {
                    Log.warn("comm_msg for unknown comm " + id);
                    return;
                }
                for (var l : c.onMessage) run(() -> l.accept(data), "comm " + c.target);
            }
            case "comm_close" -> {
                Comm c = open.remove(id);
                if (c == null) return;
                c.closed = true;
                for (var l : c.onClose) run(() -> l.accept(data), "comm " + c.target);
            }
            default -> throw new IllegalArgumentException("not a comm message: " + msgType);
        }
    }

    private interface Body {
        void run() throws Exception;
    }

    private static void run(Body b, String what) {
        try {
            b.run();
        } catch (Exception | LinkageError | StackOverflowError e) {
            Log.warn("comm handler of " + what + " failed: " + e);
        }
    }

    private static JsonObject content(String id, Map<String, ?> data) {
        var c = new JsonObject();
        c.addProperty("comm_id", id);
        c.add("data", data == null ? new JsonObject() : Wire.GSON.toJsonTree(data));
        return c;
    }

    static Map<String, Object> toMap(JsonElement e) {
        if (e == null || !e.isJsonObject()) return new LinkedHashMap<>();
        return Wire.GSON.fromJson(e, new TypeToken<LinkedHashMap<String, Object>>() { }.getType());
    }

    private static String str(JsonObject o, String k) {
        return o.has(k) && !o.get(k).isJsonNull() ? o.get(k).getAsString() : "";
    }

    /** One open comm. Listeners run on the kernel's shell thread. */
    public final class Comm {
        private final String id;
        private final String target;
        private final java.util.List<Consumer<Map<String, Object>>> onMessage = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final java.util.List<Consumer<Map<String, Object>>> onClose = new java.util.concurrent.CopyOnWriteArrayList<>();
        private volatile boolean closed;

        private Comm(String id, String target) {
            this.id = id;
            this.target = target;
        }

        /** The comm id (a UUID). */
        public String id() {
            return id;
        }

        /** The target name it was opened with. */
        public String targetName() {
            return target;
        }

        /** Whether neither side has closed it. */
        public boolean isOpen() {
            return !closed;
        }

        /** Sends {@code data} to the frontend's side of this comm. */
        public void send(Map<String, ?> data) {
            if (closed) throw new IllegalStateException("comm " + id + " (" + target + ") is closed");
            sender.send("comm_msg", content(id, data));
        }

        /** Runs {@code listener} with the data of every message the frontend sends on this comm. */
        public Comm onMessage(Consumer<Map<String, Object>> listener) {
            onMessage.add(listener);
            return this;
        }

        /** Runs {@code listener} with the data of the frontend's {@code comm_close}. */
        public Comm onClose(Consumer<Map<String, Object>> listener) {
            onClose.add(listener);
            return this;
        }

        /** Closes it from the kernel side (the frontend gets a {@code comm_close}); no effect when already closed. */
        public void close(Map<String, ?> data) {
            if (closed) return;
            closed = true;
            open.remove(id);
            sender.send("comm_close", content(id, data));
        }

        /** {@link #close(Map)} with no data. */
        public void close() {
            close(Map.of());
        }

        @Override
        public String toString() {
            return "Comm(" + target + ", " + id + (closed ? ", closed)" : ")");
        }
    }
}
