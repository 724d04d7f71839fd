// HMAC signing of Jupyter messages. No tensor shapes here.
package ai.longconv4j.kernel.wire;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Signs and verifies the four JSON frames of a message with the connection file's key and scheme
 * ({@code hmac-sha256} etc.). An empty key disables signing, as the protocol specifies.
 * Verification compares in constant time. The key is never printed ({@link #toString()} hides it).
 */
public final class Signer {
    private final byte[] key;
    private final String algorithm;
    private final ThreadLocal<Mac> macs;

    /**
     * @param key    the connection file's {@code key} (may be empty)
     * @param scheme the connection file's {@code signature_scheme}, e.g. {@code hmac-sha256}
     * @throws IllegalArgumentException for an unknown scheme
     */
    public Signer(String key, String scheme) {
        this.key = key.getBytes(StandardCharsets.UTF_8);
        this.algorithm = switch (scheme == null || scheme.isEmpty() ? "hmac-sha256" : scheme) {
            case "hmac-sha256" -> "HmacSHA256";
            case "hmac-sha1" -> "HmacSHA1";
            case "hmac-sha512" -> "HmacSHA512";
            case "hmac-md5" -> "HmacMD5";
            default -> throw new IllegalArgumentException("signature_scheme: expected hmac-sha256|hmac-sha512|hmac-sha1|hmac-md5, got " + scheme);
        };
        this.macs = ThreadLocal.withInitial(this::newMac);
        if (this.key.length > 0) newMac(); // fail early on a bad algorithm
    }

    private Mac newMac() {
        try {
            Mac m = Mac.getInstance(algorithm);
            m.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, algorithm));
            return m;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create " + algorithm, e);
        }
    }

    /** Whether messages are signed at all (false for an empty key). */
    public boolean enabled() {
        return key.length > 0;
    }

    /** Hex signature of the frames, or "" when signing is disabled. */
    public String sign(byte[]... frames) {
        if (!enabled()) return "";
        Mac m = macs.get();
        m.reset();
        for (byte[] f : frames) m.update(f);
        return HexFormat.of().formatHex(m.doFinal());
    }

    /** Constant-time check of a received signature; always true when signing is disabled. */
    public boolean verify(String signature, byte[]... frames) {
        if (!enabled()) return true;
        if (signature == null || signature.isEmpty()) return false;
        return MessageDigest.isEqual(sign(frames).getBytes(StandardCharsets.US_ASCII),
                signature.getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public String toString() {
        return "Signer[" + algorithm + ", key=<hidden>]";
    }
}
