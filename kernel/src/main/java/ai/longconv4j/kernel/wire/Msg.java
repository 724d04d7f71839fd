// Jupyter wire message (protocol 5.3). No tensor shapes here.
package ai.longconv4j.kernel.wire;

import com.google.gson.JsonObject;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * One Jupyter message: routing identities, the four signed JSON parts and optional binary buffers.
 *
 * @param ids      ZeroMQ routing identities (the frames before {@code <IDS|MSG>}); empty on IOPub
 * @param header   {@code msg_id, session, username, date, msg_type, version}
 * @param parent   the header of the request this message answers ({@code {}} if none)
 * @param metadata free-form metadata
 * @param content  the message body
 */
public record Msg(List<byte[]> ids, JsonObject header, JsonObject parent, JsonObject metadata, JsonObject content) {

    /** Protocol version we speak. */
    public static final String PROTOCOL_VERSION = "5.3";

    /** The {@code msg_type} of the header. */
    public String type() {
        return header.has("msg_type") ? header.get("msg_type").getAsString() : "";
    }

    /** A new message of {@code type} answering {@code this}: same identities and session, this header as parent. */
    public Msg reply(String type, JsonObject body) {
        String session = header.has("session") ? header.get("session").getAsString() : "";
        return new Msg(ids, newHeader(type, session), header, new JsonObject(), body);
    }

    /** A fresh header. */
    public static JsonObject newHeader(String type, String session) {
        JsonObject h = new JsonObject();
        h.addProperty("msg_id", UUID.randomUUID().toString());
        h.addProperty("session", session);
        h.addProperty("username", "kernel");
        h.addProperty("date", Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS).toString()); // ISO 8601 with at most 6 fraction digits, as jupyter_client parses it
        h.addProperty("msg_type", type);
        h.addProperty("version", PROTOCOL_VERSION);
        return h;
    }
}
