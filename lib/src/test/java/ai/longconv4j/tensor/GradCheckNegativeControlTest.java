// Shape legend: small vectors (n = 5..6).
package ai.longconv4j.tensor;

import ai.longconv4j.testing.GradCheck;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The gradient check must be able to fail: a wrong rule and float32 with a tiny eps are caught. */
class GradCheckNegativeControlTest {

    @Test
    void wrongGradientIsCaught() {
        Tensor x = Tensor.randn(Rng.seeded(40), DType.F64, 6);
        // y = 3x with a backward that claims 3.01x: a 0.3% error
        GradCheck.Result r = GradCheck.check(in -> Tensor.op("almost", in[0].detach().mul(3), new Tensor[]{in[0]},
                g -> new Tensor[]{g.mul(3.01)}), GradCheck.EPS, GradCheck.ATOL, GradCheck.RTOL, x);
        assertFalse(r.passed(), r.toString());
        assertThrows(AssertionError.class, () -> GradCheck.assertGradients("almost",
                in -> Tensor.op("almost", in[0].detach().mul(3), new Tensor[]{in[0]}, g -> new Tensor[]{g.mul(3.01)}), x));
        // the correct rule passes with the same settings
        assertTrue(GradCheck.check(in -> Tensor.op("exact", in[0].detach().mul(3), new Tensor[]{in[0]},
                g -> new Tensor[]{g.mul(3)}), GradCheck.EPS, GradCheck.ATOL, GradCheck.RTOL, x).passed());
    }

    @Test
    void float32WithTinyEpsFails() {
        // float32 has 24 mantissa bits: x +- 1e-6 rounds to a neighbour ~6e-8 * |x| away, so the
        // numeric derivative of tanh is wrong by O(1e-1): the check must fail
        Tensor x = Tensor.randn(Rng.seeded(41), DType.F32, 5).add(2);
        GradCheck.Result r = GradCheck.check(in -> in[0].tanh().mul(in[0]), 1e-6, GradCheck.ATOL, GradCheck.RTOL, x);
        assertFalse(r.passed(), r.toString());
        // the same function in F64 passes
        assertTrue(GradCheck.check(in -> in[0].tanh().mul(in[0]), GradCheck.EPS, GradCheck.ATOL, GradCheck.RTOL,
                x.to(DType.F64)).passed());
    }
}
