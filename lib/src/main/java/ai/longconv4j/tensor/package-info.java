/**
 * Tensors with reverse-mode autograd.
 *
 * <p>{@link ai.longconv4j.tensor.Tensor} is the one tensor type: a view (shape, strides, offset) over a
 * {@link ai.longconv4j.tensor.Storage} of one {@link ai.longconv4j.tensor.DType} on one
 * {@link ai.longconv4j.tensor.Device}. The CPU computes F64 and F32.
 *
 * <p>Layout of the files: {@code Primitives} holds every differentiable primitive with its gradient rule
 * (one place); {@code Composite} builds softmax, cross-entropy, dropout, pad, mean from them;
 * {@code UnaryFn} is the table of elementwise functions and derivatives; {@code Raw} computes forwards
 * without autograd; {@code Autograd} is the engine; kernels live in {@code ai.longconv4j.backend.cpu}.
 *
 * <p>Custom ops (FFT convolution, CUDA kernels) compute their result outside autograd and attach a
 * hand-written backward with {@link ai.longconv4j.tensor.Tensor#op}.
 *
 * <p>Complex numbers: a real tensor whose last dim is 2 = (re, im), as {@code torch.view_as_real}.
 */
package ai.longconv4j.tensor;
