// Shape legend: scalar functions applied elementwise (output shape = input shape).
package ai.longconv4j.backend;

/**
 * The elementwise unary functions a device backend computes, each with one scalar parameter {@code p}
 * (unused where not named): {@code SCALE: p * x} (mul, neg), {@code SHIFT: x + p} (add), {@code POW: x^p},
 * {@code MAXIMUM: max(x, p)}. Their derivatives {@code f'(x, y)} (y = f(x)) are the ones of the CPU table
 * ({@code ai.longconv4j.tensor.UnaryFn}): exp: y, log: 1/x, tanh: 1 - y^2, sigmoid: y (1 - y), relu: [x > 0],
 * gelu: Phi(x) + x phi(x), sqrt: 0.5 / y, abs: sign(x), sign: 0, pow: p x^(p-1) (0 when p = 0), maximum: [x > p].
 */
public enum UnaryOp {
    SCALE, SHIFT, EXP, LOG, TANH, SIGMOID, RELU, GELU, GELU_TANH, SQRT, ABS, SIGN, POW, MAXIMUM;

    /** The code the device kernels switch on (the ordinal; kept stable by appending only). */
    public int code() { return ordinal(); }
}
