/**
 * The CUDA side of longconv4j: kernels compiled ahead of time by nvcc (src/main/cuda, packaged as fatbins)
 * and run through JCuda's driver API; cuFFT and cuBLAS bound with the FFM API.
 *
 * <ul>
 *   <li>{@link ai.longconv4j.cuda.Cuda}: is a GPU usable (else a "no GPU: ..." reason).</li>
 *   <li>{@link ai.longconv4j.cuda.CudaDevice}: one device (primary context, stream, caching allocator,
 *       modules); {@link ai.longconv4j.cuda.DeviceBuffer}, {@link ai.longconv4j.cuda.CudaEvent}.</li>
 *   <li>{@link ai.longconv4j.cuda.FlashButterflyConv}: the fused long-convolution kernel (forward and the
 *       input and weight gradients: {@code backwardInput}, {@code backwardWeights}); twins {@link ai.longconv4j.cuda.CudaFftConv} (cuFFT) and
 *       {@link ai.longconv4j.cuda.CudaDirectConv} (O(L^2)).</li>
 *   <li>{@link ai.longconv4j.cuda.CuFft}, {@link ai.longconv4j.cuda.CuBlas}: FFM bindings found by soname.</li>
 * </ul>
 * Measured figures: kernels-cuda/BENCH-RESULTS.md.
 */
package ai.longconv4j.cuda;
