// Thrown when a safetensors file is truncated or corrupt.
package ai.longconv4j.io;

import java.io.IOException;

/** A safetensors file (or byte image) does not follow the layout; the message names the file and the defect. */
public final class SafeTensorsFormatException extends IOException {
    public SafeTensorsFormatException(String message) {
        super(message);
    }

    public SafeTensorsFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
