// Result of executing one cell. No tensor shapes here.
package ai.longconv4j.kernel;

import org.dflib.jjava.jupyter.kernel.display.DisplayData;

import java.util.List;

/**
 * What a cell ended with: its rendered last value (null when the cell has none, e.g. it ends with a
 * declaration or statement) or an error.
 */
public record CellResult(DisplayData value, Error error) {

    /** A cell's failure in Jupyter's terms. */
    public record Error(String ename, String evalue, List<String> traceback) {
        /** The traceback joined into one text block. */
        public String text() {
            return String.join("\n", traceback);
        }
    }

    public static CellResult ok(DisplayData value) {
        return new CellResult(value, null);
    }

    public static CellResult failed(Error e) {
        return new CellResult(null, e);
    }

    public static CellResult failed(String ename, String evalue, List<String> traceback) {
        return new CellResult(null, new Error(ename, evalue, traceback));
    }

    public boolean ok() {
        return error == null;
    }
}
