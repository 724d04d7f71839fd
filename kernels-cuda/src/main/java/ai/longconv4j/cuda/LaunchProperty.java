// Integer launch-shape settings read from system properties (threads, warps, pairs per block). No tensor shapes.
package ai.longconv4j.cuda;

/** Parses the integer system properties of the kernel routes, with errors that name the route, the setting and the value. */
final class LaunchProperty {
  private LaunchProperty() {}

  /**
   * {@code value} (a property's text; null or blank: {@code dflt}) as an int in [min, max]; otherwise an
   * IllegalArgumentException "OWNER: WHAT must be an integer in [min, max], got VALUE".
   */
  static int intValue(String owner, String what, String value, int dflt, int min, int max) {
    if (value == null || value.isBlank()) return dflt;
    int x;
    try {
      x = Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(owner + ": " + what + " must be an integer in [" + min + ", " + max + "], got " + value);
    }
    if (x < min || x > max)
      throw new IllegalArgumentException(owner + ": " + what + " must be in [" + min + ", " + max + "], got " + x);
    return x;
  }
}
