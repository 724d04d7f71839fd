// Progress bar API for notebooks and terminals. No tensor shapes here.
package ai.longconv4j.kernel;

/**
 * A progress bar that long loops (training, benchmarks) update. In a notebook it is one display
 * updated in place ({@code update_display_data}); on a terminal it redraws one line with {@code \r}.
 * <pre>
 * jshell&gt; try (var bar = progress("epoch 1", 100)) { for (int i = 0; i &lt; 100; i++) { work(); bar.step(); } }
 * epoch 1 [############################] 100/100 2.1s
 * </pre>
 * <p><b>For the library:</b> {@code lib} cannot depend on this module. Its {@code Trainer} takes
 * {@code .listener(notebookProgress())} (see {@link Notebook#notebookProgress()}); other loops can accept a
 * {@code java.util.function.LongConsumer} and the notebook passes {@code bar::update}. Redraws are
 * throttled, so calling {@link #update} every step is cheap.
 */
public interface ProgressBar extends AutoCloseable {
    /** Sets the number of finished steps. */
    ProgressBar update(long done);

    /** One more finished step. */
    ProgressBar step();

    /** Text shown after the counts, e.g. {@code "loss 1.234"}. */
    ProgressBar message(String text);

    /** Finished steps so far. */
    long done();

    /** Draws the final state. */
    @Override
    void close();
}
