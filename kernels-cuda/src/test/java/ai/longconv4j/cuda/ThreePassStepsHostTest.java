// Shapes: H channels, N FFT size = N1 * M (no device memory: the plans are only constructed).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Runs without a GPU: the three-pass forward's steps switch ({@link ThreePass#forwardSteps}, property
 * {@value ThreePass#FWD_STEPS_PROPERTY}). A plan constructed without a device is only inspected, never launched.
 */
class ThreePassStepsHostTest {
  @Test
  void fwdStepsPropertyOldSelectsRound8cKernels() {
    String fwd = System.getProperty(ThreePass.FWD_STEPS_PROPERTY), bwd = System.getProperty(ThreePass.STEPS_PROPERTY);
    try {
      System.clearProperty(ThreePass.FWD_STEPS_PROPERTY);
      System.clearProperty(ThreePass.STEPS_PROPERTY);
      var dflt = new ThreePass(null, 3, 1 << 16, 8192);
      assertTrue(dflt.vectorForwardMiddle() && dflt.tileOuterApplies(), "16-byte rows and the tiled outer pass by default");
      assertFalse(dflt.tileInverseApplies(), "the inverse outer pass reads columns by default (the tile was slower)");
      assertFalse(new ThreePass(null, 3, 1 << 19, 16384).tileOuterApplies(), "N1 = 32: the column kernels");
      assertTrue(new ThreePass(null, 3, 1 << 17, 8192).tileOuterApplies(), "N1 = 16: the tile kernels");
      assertFalse(new ThreePass(null, 3, 1 << 19, 16384).forwardSteps(true, true, true).tileInverseApplies(), "N1 = 32");
      System.setProperty(ThreePass.FWD_STEPS_PROPERTY, "tile");
      var tile = new ThreePass(null, 3, 1 << 16, 8192);
      assertTrue(tile.vectorForwardMiddle() && tile.tileOuterApplies() && tile.tileInverseApplies(), "fwdsteps=tile: round 8d");
      System.setProperty(ThreePass.FWD_STEPS_PROPERTY, "old");
      var old = new ThreePass(null, 3, 1 << 16, 8192);
      assertFalse(old.vectorForwardMiddle() || old.tileOuterApplies() || old.tileInverseApplies(), "fwdsteps=old: round 8c's kernels");
      assertTrue(old.tensorCoreDk(), "the forward's switch leaves the backward's steps alone");
      assertTrue(old.forwardSteps(true, true, true).vectorForwardMiddle() && old.tileOuterApplies() && old.tileInverseApplies(),
          "the method overrides the property");
      assertFalse(old.forwardSteps(true, false, true).tileOuterApplies());
      assertTrue(old.tileInverseApplies(), "the two passes switch separately");
      assertFalse(old.forwardSteps(true, true, false).tileInverseApplies());
      System.setProperty(ThreePass.FWD_STEPS_PROPERTY, "new");
      assertTrue(new ThreePass(null, 3, 1 << 16, 8192).vectorForwardMiddle(), "only 'old' turns it off");
      assertFalse(new ThreePass(null, 3, 1 << 16, 8192).tileInverseApplies(), "only 'tile' tiles the inverse");
      System.clearProperty(ThreePass.FWD_STEPS_PROPERTY);
      System.setProperty(ThreePass.STEPS_PROPERTY, "old");
      assertTrue(new ThreePass(null, 3, 1 << 16, 8192).vectorForwardMiddle(), "bwdsteps=old leaves the forward alone");
      assertFalse(new ThreePass(null, 3, 1 << 16, 8192).forwardSteps(false, true, false).vectorForwardMiddle());
    } finally {
      restore(ThreePass.FWD_STEPS_PROPERTY, fwd);
      restore(ThreePass.STEPS_PROPERTY, bwd);
    }
  }

  private static void restore(String key, String value) {
    if (value == null) System.clearProperty(key); else System.setProperty(key, value);
  }
}
