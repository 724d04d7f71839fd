// The Jupyter kernel: ZeroMQ sockets, message dispatch, IOPub publishing, stdin, interrupts. No shapes.
package ai.longconv4j.kernel;

import ai.longconv4j.kernel.wire.ConnectionInfo;
import ai.longconv4j.kernel.wire.Msg;
import ai.longconv4j.kernel.wire.Signer;
import ai.longconv4j.kernel.wire.Wire;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Jupyter kernel over ZeroMQ (protocol 5.3). Each socket has one owner thread: shell and control
 * dispatch requests, IOPub sends from a queue (so cell threads, which may be interrupted, never touch a
 * socket), stdin forwards input requests, heartbeat echoes. Cells run on their own thread; an
 * {@code interrupt_request} (on control) interrupts them. Sockets bind only the connection file's
 * address; every incoming message's signature is checked ({@link Wire}).
 */
public final class KernelServer {
    /** After an interrupt, a cell still running this long gets a note suggesting a restart. */
    private static final long INTERRUPT_NOTE_MS = 2000;
    /**
     * Whether kernel_info_reply waits for the JShell to be ready (start-up warm-up included):
     * {@code -Dlongconv4j.readyBeforeReply=true}. Off: under load JShell alone takes 3–5 s to start, which
     * would put the kernel's start near 3x ipykernel's (kernel/BENCHMARKS.md); the first cell waits instead.
     */
    static final boolean READY_BEFORE_REPLY = Boolean.getBoolean("longconv4j.readyBeforeReply");

    private final ConnectionInfo info;
    private final Session session;
    private final StreamRouter router;
    private final Wire wire;
    private final ZContext ctx = new ZContext(1);
    private final BlockingQueue<Msg> iopubQueue = new LinkedBlockingQueue<>();
    private final BlockingQueue<InputAsk> stdinQueue = new LinkedBlockingQueue<>();
    private final ExecutorService cells = Executors.newSingleThreadExecutor(r -> daemon(r, "cell"));
    private final AtomicInteger executionCount = new AtomicInteger();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final String session_id = java.util.UUID.randomUUID().toString();
    private volatile boolean running = true;
    private volatile boolean cellRunning;
    private final ExecHistory history = new ExecHistory();
    private final Comms comms = new Comms(this::sendComm);
    /** The comm message the shell thread is handling (parent of what its handlers send). */
    private final ThreadLocal<Msg> commParent = new ThreadLocal<>();
    private volatile Msg currentExecute;

    private record InputAsk(Msg parent, String prompt, boolean password, SynchronousQueue<String> answer) { }

    public KernelServer(ConnectionInfo info, Session session, StreamRouter router) {
        this.info = info;
        this.session = session;
        this.router = router;
        this.wire = new Wire(new Signer(info.key(), info.signatureScheme()), Log::warn);
        Notebook.bindComms(comms);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Binds the sockets, starts the threads and blocks until a shutdown request. */
    public void serve() throws InterruptedException {
        ZMQ.Socket shell = bind(SocketType.ROUTER, info.shellPort());
        ZMQ.Socket control = bind(SocketType.ROUTER, info.controlPort());
        ZMQ.Socket stdin = bind(SocketType.ROUTER, info.stdinPort());
        ZMQ.Socket iopub = bind(SocketType.PUB, info.iopubPort());
        ZMQ.Socket hb = bind(SocketType.REP, info.hbPort());
        Log.info("listening on " + info);
        daemon(() -> iopubLoop(iopub), "iopub").start();
        daemon(() -> heartbeatLoop(hb), "heartbeat").start();
        daemon(() -> stdinLoop(stdin), "stdin").start();
        daemon(() -> requestLoop(control, true), "control").start();
        daemon(() -> requestLoop(shell, false), "shell").start();
        publish(null, "status", obj("execution_state", "starting"));
        stopped.await();
    }

    private ZMQ.Socket bind(SocketType type, int port) {
        ZMQ.Socket s = ctx.createSocket(type);
        s.setLinger(1000);
        s.bind(info.endpoint(port));
        return s;
    }

    // ---- loops -----------------------------------------------------------------------------

    private void iopubLoop(ZMQ.Socket iopub) {
        while (true) {
            try {
                Msg m = iopubQueue.take();
                wire.write(iopub, m, m.type());
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                Log.warn("iopub: " + t);
            }
        }
    }

    private void heartbeatLoop(ZMQ.Socket hb) {
        var poller = ctx.createPoller(1);
        poller.register(hb, ZMQ.Poller.POLLIN);
        while (running) {
            try {
                if (poller.poll(200) > 0) {
                    byte[] ping = hb.recv(0);
                    if (ping != null) hb.send(ping, 0);
                }
            } catch (Throwable t) {
                if (running) Log.warn("heartbeat: " + t);
            }
        }
    }

    private void requestLoop(ZMQ.Socket socket, boolean isControl) {
        var poller = ctx.createPoller(1);
        poller.register(socket, ZMQ.Poller.POLLIN);
        while (running) {
            try {
                if (poller.poll(200) <= 0) continue;
                Msg m = wire.read(socket);
                if (m == null) continue;
                Log.debug((isControl ? "control" : "shell") + " <- " + m.type());
                publish(m, "status", obj("execution_state", "busy"));
                try {
                    handle(socket, m, isControl);
                } finally {
                    publish(m, "status", obj("execution_state", "idle"));
                }
            } catch (Throwable t) {
                if (running) Log.warn((isControl ? "control" : "shell") + ": " + t);
            }
        }
    }

    /**
     * After a failed cell with {@code stop_on_error}, before its reply is sent: execute requests already
     * waiting on the shell socket (e.g. the rest of "Run all", sent before the client could know of the
     * error) are answered {@code aborted} without running; other requests are handled as usual.
     */
    private void abortQueued(ZMQ.Socket shell) throws Exception {
        var poller = ctx.createPoller(1);
        try {
            poller.register(shell, ZMQ.Poller.POLLIN);
            while (poller.poll(0) > 0) {
                Msg q = wire.read(shell);
                if (q == null) continue;
                publish(q, "status", obj("execution_state", "busy"));
                try {
                    if (q.type().equals("execute_request")) {
                        Log.debug("aborted a queued execute_request after an error");
                        wire.write(shell, q.reply("execute_reply", obj("status", "aborted")), null);
                    } else {
                        handle(shell, q, false);
                    }
                } finally {
                    publish(q, "status", obj("execution_state", "idle"));
                }
            }
        } finally {
            poller.close();
        }
    }

    private void stdinLoop(ZMQ.Socket stdin) {
        var poller = ctx.createPoller(1);
        poller.register(stdin, ZMQ.Poller.POLLIN);
        while (running) {
            try {
                InputAsk ask = stdinQueue.poll(200, TimeUnit.MILLISECONDS);
                if (ask == null) continue;
                JsonObject c = new JsonObject();
                c.addProperty("prompt", ask.prompt());
                c.addProperty("password", ask.password());
                wire.write(stdin, ask.parent().reply("input_request", c), null);
                String value = null;
                while (running && value == null) {
                    if (poller.poll(200) <= 0) continue;
                    Msg r = wire.read(stdin);
                    if (r != null && r.type().equals("input_reply")) value = str(r.content(), "value");
                }
                ask.answer().offer(value == null ? "" : value, 1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                Log.warn("stdin: " + t);
            }
        }
    }

    // ---- dispatch --------------------------------------------------------------------------

    private void handle(ZMQ.Socket socket, Msg m, boolean isControl) throws Exception {
        JsonObject c = m.content();
        switch (m.type()) {
            case "kernel_info_request" -> {
                if (!isControl && READY_BEFORE_REPLY) session.awaitReady();   // JShell started (and warmed up); control stays free
                wire.write(socket, m.reply("kernel_info_reply", kernelInfo()), null);
            }
            case "execute_request" -> execute(socket, m);
            case "complete_request" -> wire.write(socket, m.reply("complete_reply", Requests.complete(session, str(c, "code"), c.get("cursor_pos").getAsInt())), null);
            case "inspect_request" -> wire.write(socket, m.reply("inspect_reply", Requests.inspect(session, str(c, "code"), c.get("cursor_pos").getAsInt())), null);
            case "is_complete_request" -> wire.write(socket, m.reply("is_complete_reply", Requests.isComplete(session, str(c, "code"))), null);
            case "history_request" -> wire.write(socket, m.reply("history_reply", history.reply(c)), null);
            case "comm_info_request" -> {
                JsonObject r = obj("status", "ok");
                r.add("comms", comms.info(str(c, "target_name")));
                wire.write(socket, m.reply("comm_info_reply", r), null);
            }
            case "interrupt_request" -> {
                interrupt();
                wire.write(socket, m.reply("interrupt_reply", obj("status", "ok")), null);
            }
            case "shutdown_request" -> {
                boolean restart = c.has("restart") && c.get("restart").getAsBoolean();
                JsonObject r = obj("status", "ok");
                r.addProperty("restart", restart);
                wire.write(socket, m.reply("shutdown_reply", r), null);
                shutdown(m);
            }
            case "comm_open", "comm_msg", "comm_close" -> {
                commParent.set(m);
                try {
                    comms.received(m.type(), c);
                } finally {
                    commParent.remove();
                }
            }
            default -> Log.warn("unhandled " + (isControl ? "control" : "shell") + " message type " + m.type());
        }
    }

    private JsonObject kernelInfo() {
        JsonObject li = new JsonObject();
        li.addProperty("name", "java");
        li.addProperty("version", Runtime.version().toString());
        li.addProperty("mimetype", "text/x-java-source");
        li.addProperty("file_extension", ".jshell");
        li.addProperty("pygments_lexer", "java");
        li.addProperty("codemirror_mode", "text/x-java");
        JsonObject r = obj("status", "ok");
        r.addProperty("protocol_version", Msg.PROTOCOL_VERSION);
        r.addProperty("implementation", "longconv4j");
        r.addProperty("implementation_version", Main.VERSION);
        r.add("language_info", li);
        r.addProperty("banner", "longconv4j " + Main.VERSION + " on Java " + Runtime.version() + " (JShell, in-process)");
        r.addProperty("debugger", false);
        r.add("help_links", new JsonArray());
        return r;
    }

    private void execute(ZMQ.Socket shell, Msg m) throws Exception {
        JsonObject c = m.content();
        String code = str(c, "code");
        boolean silent = c.has("silent") && c.get("silent").getAsBoolean();
        boolean allowStdin = !c.has("allow_stdin") || c.get("allow_stdin").getAsBoolean();
        boolean stopOnError = !c.has("stop_on_error") || c.get("stop_on_error").getAsBoolean();
        int count = silent ? executionCount.get() : executionCount.incrementAndGet();
        JsonObject input = obj("code", code);
        input.addProperty("execution_count", count);
        publish(m, "execute_input", input);
        currentExecute = m;
        var out = new IopubOutput(m, allowStdin);
        Future<CellResult> f = cells.submit(() -> session.execute(code, out));
        cellRunning = true;
        CellResult r;
        try {
            r = waitFor(f);
        } finally {
            cellRunning = false;
            Thread.interrupted();
        }
        router.flush();
        JsonObject reply = new JsonObject();
        if (!silent) history.add(count, code, r.ok() && r.value() != null ? (String) r.value().getData(org.dflib.jjava.jupyter.kernel.display.mime.MIMEType.TEXT_PLAIN) : null);
        if (r.ok()) {
            if (r.value() != null && !silent) {
                JsonObject res = bundle(r.value(), false);
                res.addProperty("execution_count", count);
                publish(m, "execute_result", res);
            }
            reply.addProperty("status", "ok");
            reply.add("user_expressions", new JsonObject());
            reply.add("payload", new JsonArray());
        } else {
            JsonObject err = error(r.error());
            publish(m, "error", err);
            if (stopOnError && !silent) abortQueued(shell);
            reply = err.deepCopy();
            reply.addProperty("status", "error");
        }
        reply.addProperty("execution_count", count);
        wire.write(shell, m.reply("execute_reply", reply), null);
    }

    private static CellResult waitFor(Future<CellResult> f) {
        while (true) {
            try {
                return f.get();
            } catch (InterruptedException ignored) {
                // the shell thread is never the target of an interrupt; keep waiting
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable t = e.getCause();
                return CellResult.failed(t.getClass().getName(), String.valueOf(t.getMessage()), java.util.List.of("kernel error: " + t));
            }
        }
    }

    private void interrupt() {
        session.interrupt();
        if (!cellRunning) return;
        daemon(() -> {
            try {
                Thread.sleep(INTERRUPT_NOTE_MS);
            } catch (InterruptedException e) {
                return;
            }
            CellOutput o = Notebook.output();
            if (cellRunning && o != null) o.stream("stderr", "\nThe cell has not stopped " + INTERRUPT_NOTE_MS / 1000
                    + " s after the interrupt: it runs code that does not check Thread.interrupted(). Restart the kernel to stop it.\n");
        }, "interrupt-note").start();
    }

    private void shutdown(Msg m) {
        running = false;
        session.interrupt();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (!iopubQueue.isEmpty() && System.nanoTime() < deadline) Thread.onSpinWait();
        daemon(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException ignored) {
                // exit anyway
            }
            Log.info("shutdown requested");
            stopped.countDown();
        }, "shutdown").start();
    }

    // ---- output ----------------------------------------------------------------------------

    /** Comm messages go out on IOPub, as children of the comm message being handled or else of the last execute request. */
    private void sendComm(String type, JsonObject content) {
        Msg parent = commParent.get();
        publish(parent != null ? parent : currentExecute, type, content);
    }

    private void publish(Msg parent, String type, JsonObject content) {
        JsonObject header = Msg.newHeader(type, parent == null ? session_id : str(parent.header(), "session"));
        iopubQueue.add(new Msg(java.util.List.of(), header, parent == null ? new JsonObject() : parent.header(), new JsonObject(), content));
    }

    /** data / metadata / transient of a display bundle. */
    static JsonObject bundle(DisplayData d, boolean withTransient) {
        JsonObject tree = Wire.GSON.toJsonTree(d).getAsJsonObject();
        JsonObject out = new JsonObject();
        out.add("data", objOrEmpty(tree.get("data")));
        out.add("metadata", objOrEmpty(tree.get("metadata")));
        if (withTransient) {   // DisplayData keeps its transient part out of serialization: add it by hand
            JsonObject tr = new JsonObject();
            if (d.hasDisplayId()) tr.addProperty("display_id", d.getDisplayId());
            out.add("transient", tr);
        }
        return out;
    }

    private static JsonObject objOrEmpty(JsonElement e) {
        return e != null && e.isJsonObject() ? e.getAsJsonObject() : new JsonObject();
    }

    static JsonObject error(CellResult.Error e) {
        JsonObject o = obj("ename", e.ename());
        o.addProperty("evalue", e.evalue());
        JsonArray tb = new JsonArray();
        e.traceback().forEach(tb::add);
        o.add("traceback", tb);
        return o;
    }

    static JsonObject obj(String k, String v) {
        JsonObject o = new JsonObject();
        o.addProperty(k, v);
        return o;
    }

    static String str(JsonObject o, String k) {
        return o.has(k) && !o.get(k).isJsonNull() ? o.get(k).getAsString() : "";
    }

    /** The outputs of one execute_request, as IOPub messages. */
    private final class IopubOutput implements CellOutput {
        private final Msg parent;
        private final boolean allowStdin;

        IopubOutput(Msg parent, boolean allowStdin) {
            this.parent = parent;
            this.allowStdin = allowStdin;
        }

        @Override
        public void stream(String name, String text) {
            JsonObject c = obj("name", name);
            c.addProperty("text", text);
            publish(parent, "stream", c);
        }

        @Override
        public void display(DisplayData data, boolean update) {
            router.flush();
            publish(parent, update ? "update_display_data" : "display_data", bundle(data, true));
        }

        @Override
        public String readLine(String prompt, boolean password) throws IOException {
            if (!allowStdin) throw new IOException("stdin is not available: this frontend does not accept input");
            router.flush();
            var ask = new InputAsk(parent, prompt, password, new SynchronousQueue<>());
            stdinQueue.add(ask);
            try {
                return ask.answer().take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("input interrupted");
            }
        }
    }
}
