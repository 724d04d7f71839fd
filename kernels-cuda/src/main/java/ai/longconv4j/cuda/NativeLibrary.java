// Shapes: none (finding CUDA libraries by soname for the FFM bindings).
package ai.longconv4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/** A shared library opened through the system loader by the first soname that loads. */
final class NativeLibrary {
  private final String soname;
  private final SymbolLookup lookup;

  private NativeLibrary(String soname, SymbolLookup lookup) {
    this.soname = soname;
    this.lookup = lookup;
  }

  /** Opens the first of {@code sonames} that the loader finds; the exception lists all tried. */
  static NativeLibrary open(String... sonames) {
    List<String> errors = new ArrayList<>();
    for (String s : sonames) {
      try {
        return new NativeLibrary(s, SymbolLookup.libraryLookup(s, Arena.global()));
      } catch (IllegalArgumentException | IllegalCallerException e) {
        errors.add(s + ": " + e.getMessage());
      }
    }
    throw new UnsupportedOperationException("none of " + String.join(", ", sonames) + " could be loaded: " + errors);
  }

  String soname() { return soname; }

  MethodHandle fn(String symbol, FunctionDescriptor desc) {
    var addr = lookup.find(symbol)
        .orElseThrow(() -> new UnsupportedOperationException(soname + " has no symbol " + symbol));
    return Linker.nativeLinker().downcallHandle(addr, desc);
  }
}
