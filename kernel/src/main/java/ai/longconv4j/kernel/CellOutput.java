// Where a running cell's output goes (the Jupyter kernel's IOPub, or the headless runner's notebook). No shapes.
package ai.longconv4j.kernel;

import org.dflib.jjava.jupyter.kernel.display.DisplayData;

import java.io.IOException;

/**
 * The sink of everything a cell produces besides its final value. Implemented by the Jupyter server
 * (IOPub messages) and by the headless notebook runner (nbformat outputs). Methods may be called
 * from any thread.
 */
public interface CellOutput {
    /** Text on {@code stdout} or {@code stderr}. */
    void stream(String name, String text);

    /**
     * A rich output. When {@code update} is true, the output with the same display id
     * ({@link DisplayData#getDisplayId()}) is replaced in place instead.
     */
    void display(DisplayData data, boolean update);

    /**
     * Reads one line typed by the user (without the newline).
     *
     * @throws IOException when the frontend does not accept input
     */
    String readLine(String prompt, boolean password) throws IOException;

    /** Whether outputs are shown by a notebook frontend (true) or a terminal (false). */
    default boolean rich() {
        return true;
    }

    /** A sink that drops every output and refuses input with {@code why} (warm-up and AOT-training cells). */
    static CellOutput discarding(String why) {
        return new CellOutput() {
            @Override
            public void stream(String name, String text) { }

            @Override
            public void display(DisplayData data, boolean update) { }

            @Override
            public String readLine(String prompt, boolean password) throws IOException {
                throw new IOException(why);
            }
        };
    }
}
