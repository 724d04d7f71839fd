// HMAC signing and verification of Jupyter messages. No tensor shapes here.
package ai.longconv4j.kernel;

import ai.longconv4j.kernel.wire.Signer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class WireTest {
    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void signsLikeHmacSha256AndRejectsTampering() {
        var s = new Signer("secret-key", "hmac-sha256");
        String sig = s.sign(b("{\"a\":1}"), b("{}"), b("{}"), b("{}"));
        assertEquals(64, sig.length(), "hex of a 32-byte digest");
        assertTrue(s.verify(sig, b("{\"a\":1}"), b("{}"), b("{}"), b("{}")));
        assertFalse(s.verify(sig, b("{\"a\":2}"), b("{}"), b("{}"), b("{}")), "changed header");
        assertFalse(s.verify("", b("{\"a\":1}"), b("{}"), b("{}"), b("{}")), "missing signature");
        assertFalse(new Signer("other", "hmac-sha256").verify(sig, b("{\"a\":1}"), b("{}"), b("{}"), b("{}")), "other key");
        assertFalse(s.toString().contains("secret-key"), "the key is never printed");
    }

    @Test
    void emptyKeyDisablesSigningAndUnknownSchemeIsRejected() {
        var s = new Signer("", "hmac-sha256");
        assertEquals("", s.sign(b("x")));
        assertTrue(s.verify("", b("x")));
        assertThrows(IllegalArgumentException.class, () -> new Signer("k", "rot13"));
    }
}
