// Comms routing without sockets: targets, messages both ways, close, comm_info, unknown targets. No shapes.
package ai.longconv4j.kernel;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CommsTest {
    record Sent(String type, JsonObject content) { }

    final List<Sent> sent = new ArrayList<>();
    final Comms comms = new Comms((type, content) -> sent.add(new Sent(type, content)));

    static JsonObject json(String s) {
        return JsonParser.parseString(s).getAsJsonObject();
    }

    @Test
    void frontendOpensARegisteredTargetAndTheHandlerEchoes() {
        var opened = new ArrayList<Map<String, Object>>();
        comms.registerTarget("echo", (comm, data) -> {
            opened.add(data);
            comm.onMessage(d -> comm.send(Map.of("echo", d.get("x"))));
        });
        comms.received("comm_open", json("{\"comm_id\":\"c1\",\"target_name\":\"echo\",\"data\":{\"init\":true}}"));
        assertEquals(List.of(Map.of("init", true)), opened);
        assertEquals("{\"c1\":{\"target_name\":\"echo\"}}", comms.info("").toString());
        assertEquals("{}", comms.info("other").toString(), "comm_info filters by target name");

        comms.received("comm_msg", json("{\"comm_id\":\"c1\",\"data\":{\"x\":5}}"));
        assertEquals(1, sent.size());
        assertEquals("comm_msg", sent.getFirst().type());
        assertEquals("{\"comm_id\":\"c1\",\"data\":{\"echo\":5.0}}", sent.getFirst().content().toString(), "JSON numbers arrive as Double");

        comms.received("comm_msg", json("{\"comm_id\":\"c1\",\"data\":{\"x\":\"s\"}}"));
        assertEquals("s", sent.get(1).content().getAsJsonObject("data").get("echo").getAsString());
        comms.received("comm_close", json("{\"comm_id\":\"c1\",\"data\":{\"bye\":1}}"));
        assertEquals("{}", comms.info("").toString(), "closed comms leave comm_info");
    }

    @Test
    void closeListenersGetTheCloseDataAndAClosedCommRefusesToSend() {
        var got = new ArrayList<Map<String, Object>>();
        var held = new ArrayList<Comms.Comm>();
        comms.registerTarget("t", (comm, data) -> held.add(comm.onClose(got::add)));
        comms.received("comm_open", json("{\"comm_id\":\"c2\",\"target_name\":\"t\",\"data\":{}}"));
        comms.received("comm_close", json("{\"comm_id\":\"c2\",\"data\":{\"why\":\"done\"}}"));
        assertEquals(List.of(Map.of("why", "done")), got);
        assertFalse(held.getFirst().isOpen());
        assertThrows(IllegalStateException.class, () -> held.getFirst().send(Map.of()));
    }

    @Test
    void unknownTargetIsAnsweredWithACommClose() {
        comms.received("comm_open", json("{\"comm_id\":\"c3\",\"target_name\":\"nobody\",\"data\":{}}"));
        assertEquals(1, sent.size());
        assertEquals("comm_close", sent.getFirst().type());
        assertEquals("c3", sent.getFirst().content().get("comm_id").getAsString());
        assertEquals("{}", comms.info("").toString());
    }

    @Test
    void kernelOpensSendsAndClosesAComm() {
        Comms.Comm c = comms.open("my.widget", Map.of("value", 1));
        assertEquals("comm_open", sent.getFirst().type());
        assertEquals("my.widget", sent.getFirst().content().get("target_name").getAsString());
        assertEquals(c.id(), sent.getFirst().content().get("comm_id").getAsString());
        assertEquals(1, sent.getFirst().content().getAsJsonObject("data").get("value").getAsInt());
        assertTrue(comms.info("my.widget").has(c.id()));
        var fromFrontend = new ArrayList<Map<String, Object>>();
        c.onMessage(fromFrontend::add);
        comms.received("comm_msg", json("{\"comm_id\":\"" + c.id() + "\",\"data\":{\"clicked\":true}}"));
        assertEquals(List.of(Map.of("clicked", true)), fromFrontend);
        c.send(Map.of("value", 2));
        c.close();
        c.close();   // idempotent
        assertEquals(List.of("comm_open", "comm_msg", "comm_close"), sent.stream().map(Sent::type).toList());
        assertFalse(comms.info("").has(c.id()));
    }

    @Test
    void aFailingHandlerDoesNotBreakTheComm() {
        var calls = new ArrayList<Object>();
        comms.registerTarget("f", (comm, data) -> comm.onMessage(d -> {
            calls.add(d);
            throw new IllegalStateException("handler bug");
        }));
        comms.received("comm_open", json("{\"comm_id\":\"c4\",\"target_name\":\"f\",\"data\":{}}"));
        comms.received("comm_msg", json("{\"comm_id\":\"c4\",\"data\":{}}"));
        comms.received("comm_msg", json("{\"comm_id\":\"c4\",\"data\":{}}"));
        assertEquals(2, calls.size());
        assertTrue(comms.info("").has("c4"));
    }

    @Test
    void badInputIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> comms.registerTarget(" ", (c, d) -> { }));
        assertThrows(IllegalArgumentException.class, () -> comms.received("execute_request", new JsonObject()));
    }
}
