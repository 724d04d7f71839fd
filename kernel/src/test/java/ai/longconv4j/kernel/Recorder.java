// Test sink that records a cell's outputs. No tensor shapes here.
package ai.longconv4j.kernel;

import org.dflib.jjava.jupyter.kernel.display.DisplayData;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/** Records streams and displays; answers input requests from a queue. */
final class Recorder implements CellOutput {
    final StringBuilder stdout = new StringBuilder(), stderr = new StringBuilder();
    final List<DisplayData> displays = new ArrayList<>();
    final List<DisplayData> updates = new ArrayList<>();
    final Deque<String> answers = new ArrayDeque<>();
    final List<String> prompts = new ArrayList<>();

    @Override
    public synchronized void stream(String name, String text) {
        (name.equals("stdout") ? stdout : stderr).append(text);
    }

    @Override
    public synchronized void display(DisplayData data, boolean update) {
        (update ? updates : displays).add(data);
    }

    @Override
    public synchronized String readLine(String prompt, boolean password) {
        prompts.add(prompt);
        return answers.poll();
    }
}
