// Shapes: x (B, L, in) = (2, 3, 4) and (5, 7) / (3, 1, 6); w (out, in); b (out); R = B·L rows.
package ai.longconv4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.backend.FusedLinearBackend.Activation;
import ai.longconv4j.backend.SimulatedDeviceBackend;
import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import ai.longconv4j.testing.Assertions2;
import ai.longconv4j.testing.GradCheck;
import org.junit.jupiter.api.Test;

/**
 * The fused linear op ({@link FusedLinear#reference}, the Java twin of the cuBLASLt epilogue path) against the
 * composition of tensor ops (its slow twin), the central-difference gradient check of {@link Linear#linearGelu} in
 * F64 with a negative control, the dispatch to a {@link ai.longconv4j.backend.FusedLinearBackend} (the simulated
 * device), and the unchanged exact-GELU path.
 */
class FusedLinearTest {
  static final Device DEV = SimulatedDeviceBackend.DEVICE;

  static Tensor[] operands(long seed, int[] xShape, int out, DType dt) {
    int in = xShape[xShape.length - 1];
    return new Tensor[] {Tensor.randn(Rng.seeded(seed), dt, xShape).mul(1.5),
        Tensor.randn(Rng.seeded(seed + 1), dt, out, in).mul(0.7), Tensor.randn(Rng.seeded(seed + 2), dt, out)};
  }

  @Test
  void gradCheckOfLinearGeluInDoubleWithAndWithoutBias() {
    Tensor[] o = operands(1, new int[] {2, 3, 4}, 5, DType.F64);
    GradCheck.assertGradients("linearGelu tanh", in -> Linear.linearGelu(in[0], in[1], in[2], GELU.Approximation.TANH),
        o[0], o[1], o[2]);
    GradCheck.assertGradients("linearGelu tanh, no bias",
        in -> Linear.linearGelu(in[0], in[1], null, GELU.Approximation.TANH), o[0], o[1]);
    GradCheck.assertGradients("fused linear", in -> FusedLinear.reference(in[0], in[1], in[2], Activation.NONE),
        o[0].reshape(6, 4), o[1], o[2]);
  }

  @Test
  void negativeControlAWrongGeluRuleFailsTheCheck() {
    Tensor[] o = operands(2, new int[] {3, 4}, 5, DType.F64);
    // the forward of linearGelu with a rule that drops the z (1 - t²) term of geluTanh': must fail the same check
    var r = GradCheck.check(in -> {
      Tensor z = in[0].detach().matmul(in[1].detach().transpose(0, 1)).add(in[2].detach());
      Tensor x = in[0], w = in[1];
      return Tensor.op("wrong linearGelu", z.geluTanh(), new Tensor[] {x, w, in[2]}, g -> {
        double c = Math.sqrt(2 / Math.PI);
        Tensor dz = g.mul(z.add(z.mul(z).mul(z).mul(0.044715)).mul(c).tanh().add(1).mul(0.5));
        return new Tensor[] {dz.matmul(w.detach()), dz.transpose(0, 1).matmul(x.detach()), dz.sum(0, false)};
      });
    }, GradCheck.EPS, GradCheck.ATOL, GradCheck.RTOL, o[0], o[1], o[2]);
    assertFalse(r.passed(), "a wrong GELU derivative must fail the check: " + r);
  }

  /** Forward and the three gradients of the fused op and of the composition, for x of shape xShape. */
  static void compareWithComposition(Activation act, int[] xShape, int out, DType dt, double tol, long seed) {
    Tensor[] o = operands(seed, xShape, out, dt);
    int in = xShape[xShape.length - 1], rows = o[0].numel() / in;
    Tensor[] f = {o[0].reshape(rows, in).detach().requiresGrad(true), o[1].detach().requiresGrad(true),
        o[2].detach().requiresGrad(true)};
    Tensor[] c = {o[0].reshape(rows, in).detach().requiresGrad(true), o[1].detach().requiresGrad(true),
        o[2].detach().requiresGrad(true)};
    Tensor yf = FusedLinear.reference(f[0], f[1], f[2], act);
    Tensor yc = c[0].matmul(c[1].transpose(0, 1)).add(c[2]);
    if (act == Activation.GELU_TANH) yc = yc.geluTanh();
    String what = act + " " + java.util.Arrays.toString(xShape) + " -> " + out + " " + dt;
    Assertions2.assertClose(yf, yc, tol, tol, what + " forward");
    Tensor g = Tensor.randn(Rng.seeded(seed + 9), dt, rows, out);
    yf.backward(g);
    yc.backward(g);
    String[] names = {"dx", "dw", "db"};
    for (int i = 0; i < 3; i++) Assertions2.assertClose(f[i].grad(), c[i].grad(), tol, tol, what + " " + names[i]);
  }

  @Test
  void fusedEqualsCompositionOnTheCpu() {
    // F64: the same products and sums, in another order for the GELU' (hand-written vs the unary rule): 1e-12.
    compareWithComposition(Activation.GELU_TANH, new int[] {2, 3, 4}, 5, DType.F64, 1e-12, 3);
    compareWithComposition(Activation.NONE, new int[] {2, 3, 4}, 5, DType.F64, 1e-12, 4);
    compareWithComposition(Activation.GELU_TANH, new int[] {3, 1, 6}, 1, DType.F64, 1e-12, 5);
    // F32: one rounding per op on O(1) values over sums of <= 6 terms: 1e-5 leaves a wide margin over ~1e-6.
    compareWithComposition(Activation.GELU_TANH, new int[] {5, 7}, 9, DType.F32, 1e-5, 6);
  }

  @Test
  void exactGeluIsTheCompositionAndTanhTakesTheFusedNode() {
    Tensor[] o = operands(7, new int[] {2, 3, 4}, 5, DType.F64);
    Tensor x = o[0].detach().requiresGrad(true);
    Tensor exact = Linear.linearGelu(x, o[1], o[2], GELU.Approximation.EXACT);
    Assertions2.assertClose(exact, Linear.linear(o[0], o[1], o[2]).gelu(), 0, 0, "exact GELU unchanged");
    Tensor tanh = Linear.linearGelu(x, o[1], o[2], GELU.Approximation.TANH);
    Tensor x2 = o[0].reshape(6, 4).detach().requiresGrad(true);
    assertEquals("linearGelu", Linear.linearGelu(x2, o[1], o[2], GELU.Approximation.TANH).gradFn(), "one autograd node");
    assertEquals(java.util.List.of(2, 3, 5), java.util.Arrays.stream(tanh.shape()).boxed().toList());
    Assertions2.assertClose(tanh, Linear.linear(o[0], o[1], o[2]).geluTanh(), 1e-12, 1e-12, "tanh GELU");
    assertNotEquals(0.0, exact.sub(tanh).abs().max(2, false).max(1, false).max(0, false).item(), "the two GELUs differ");
  }

  @Test
  void aDeviceWithTheCapabilityRunsTheFusedOp() {
    Tensor[] o = operands(8, new int[] {2, 3, 4}, 5, DType.F64);
    Tensor[] d = {o[0].to(DEV).detach().requiresGrad(true), o[1].to(DEV).detach().requiresGrad(true),
        o[2].to(DEV).detach().requiresGrad(true)};
    long before = SimulatedDeviceBackend.FUSED_LINEARS.get();
    Tensor y = Linear.linearGelu(d[0], d[1], d[2], GELU.Approximation.TANH);
    Tensor yl = Linear.linear(d[0], d[1], d[2]);
    assertEquals(before + 2, SimulatedDeviceBackend.FUSED_LINEARS.get(), "both calls reach FusedLinearBackend.linear");
    assertEquals(DEV, y.device());
    Assertions2.assertClose(y.to(Device.CPU), Linear.linear(o[0], o[1], o[2]).geluTanh(), 1e-12, 1e-12, "device forward");
    Assertions2.assertClose(yl.to(Device.CPU), Linear.linear(o[0], o[1], o[2]), 1e-12, 1e-12, "device linear");
    Linear.linearGelu(d[0], d[1], null, GELU.Approximation.EXACT);
    assertEquals(before + 3, SimulatedDeviceBackend.FUSED_LINEARS.get(), "exact GELU: only the linear part is fused");
    y.sum().backward();
    Tensor[] c = {o[0].detach().requiresGrad(true), o[1].detach().requiresGrad(true), o[2].detach().requiresGrad(true)};
    Linear.linear(c[0], c[1], c[2]).geluTanh().sum().backward();
    for (int i = 0; i < 3; i++) {
      assertEquals(DEV, d[i].grad().device());
      Assertions2.assertClose(d[i].grad().to(Device.CPU), c[i].grad(), 1e-12, 1e-12, "device grad " + i);
    }
  }

  @Test
  void badShapesNameTheOp() {
    Tensor x = Tensor.ones(DType.F64, 2, 4), w = Tensor.ones(DType.F64, 5, 3), b = Tensor.ones(DType.F64, 5);
    var e = assertThrows(IllegalArgumentException.class, () -> Linear.linearGelu(x, w, b, GELU.Approximation.TANH));
    assertTrue(e.getMessage().startsWith("Linear.linearGelu: expected x (..., 3)"), e.getMessage());
    var e2 = assertThrows(IllegalArgumentException.class,
        () -> Linear.linearGelu(x, Tensor.ones(DType.F64, 5, 4), Tensor.ones(DType.F64, 4), GELU.Approximation.TANH));
    assertTrue(e2.getMessage().contains("expected bias (5)"), e2.getMessage());
  }

  @Test
  void theLanguageModelKeepsExactGeluByDefaultAndCanTakeTheTanhForm() {
    int[] ids = new int[2 * 8];
    for (int i = 0; i < ids.length; i++) ids[i] = (i * 7) % 11;
    var exact = LongConvLM.builder().vocab(11).width(8).layers(1).length(8).dtype(DType.F64).seed(3).build();
    var again = LongConvLM.builder().vocab(11).width(8).layers(1).length(8).dtype(DType.F64).seed(3)
        .gelu(GELU.Approximation.EXACT).build();
    var tanh = LongConvLM.builder().vocab(11).width(8).layers(1).length(8).dtype(DType.F64).seed(3)
        .gelu(GELU.Approximation.TANH).build();
    Tensor le = exact.logits(ids, 2, 8), lt = tanh.logits(ids, 2, 8);
    Assertions2.assertClose(again.logits(ids, 2, 8), le, 0, 0, "default = EXACT");
    double diff = le.sub(lt).abs().max(2, false).max(1, false).max(0, false).item();
    // tanh GELU differs from erf GELU by < 1e-3 on O(1) inputs: the logits move, but only a little
    assertTrue(diff > 0 && diff < 1e-2, "tanh vs exact logits differ by " + diff);
  }
}
