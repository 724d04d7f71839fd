// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps, N FFT size.
/**
 * Long convolutions (Fu et al., ICML 2023) on the CPU: the layer, its kernel and the engines behind it.
 *
 * <h2>Layers and functional forms (tensors, autograd)</h2>
 * <ul>
 *   <li>{@link ai.longconv4j.conv.LongConv}: {@code (B, H, L) -> (B, H, L)}: conv + D skip, GELU, dropout,
 *       Linear(C*H -> 2H) + GLU; {@code LongConv.apply(u, k, mode)} is the parameter-free form.</li>
 *   <li>{@link ai.longconv4j.conv.LongConvKernel}: {@code k = Dropout(Squash(Smooth(K)))}, own optimizer group.</li>
 *   <li>{@link ai.longconv4j.conv.ConvOps}: the Tensor ops with hand-written backward (conv, learned conv, packed
 *       learned conv, squash, smooth), and the causal learned-Monarch convolution composed of tensor ops.</li>
 *   <li>{@link ai.longconv4j.conv.CausalMonarch}: {@code M_out(conv(M_in(u))) + D u} with learned lower-triangular
 *       Monarch maps, causal for any block values ({@link ai.longconv4j.conv.ConvEngine#LEARNED_CAUSAL}, the LM's
 *       learned butterfly); the general learned DFT blocks are causal only at init.</li>
 * </ul>
 *
 * <h2>Engines (flat arrays, layouts in {@link ai.longconv4j.conv.ConvShape})</h2>
 * A {@link ai.longconv4j.conv.ConvPlan} chooses engine, FFT size, Monarch factorization and passes once,
 * from tables; {@code plan.newConvolver()} builds the {@link ai.longconv4j.conv.Convolver}:
 * {@link ai.longconv4j.conv.FftConv} (JTransforms, the CPU reference), {@link ai.longconv4j.conv.MonarchConv}
 * (FlashButterfly: {@link ai.longconv4j.conv.MonarchFft} with real-input packing and permuted spectra),
 * {@link ai.longconv4j.conv.LearnedButterfly} (learnable DFT blocks) and the slow twins
 * {@link ai.longconv4j.conv.DirectConv} and {@link ai.longconv4j.conv.NaiveDft}.
 * {@link ai.longconv4j.conv.PackedLearnedButterfly} ({@link ai.longconv4j.conv.ConvEngine#LEARNED_PACKED}) learns the
 * DFT blocks of FlashButterfly's packed transform instead (one real row of N points as M = N/2 complex points; the
 * real-FFT split/merge twiddles stay fixed and fuse with the kernel spectrum into a per-frequency pair map): half of
 * LearnedButterfly's transform size per row, the FFT convolution at init, causal only at init like LEARNED; a
 * first-class engine like LEARNED: {@code ConvOps.learnedPackedConv} (blocks as inputs), LongConv, H3Conv and the models
 * register its 2J blocks ({@code Fa, Fb, Gb, Ga} for J = 2 factors, {@code Fa, Fb, Fc, Gc, Gb, Ga} for J = 3, ..: the
 * factorization is FlashButterfly's, to M = 2^18) (butterfly group); CPU today, device backends through
 * {@code SpectralConvBackend.learnedPackedConv}.
 * Modes ({@link ai.longconv4j.conv.ConvMode}) are explicit: causal, bidirectional (k0, k1), circular.
 * <pre>{@code
 * jshell> var plan = ConvPlan.of(4096, 4096, ConvMode.CAUSAL)
 * plan ==> ConvPlan[L=4096 Lk=4096 CAUSAL engine=FFT N=8192 (JTransforms real) F64]
 * jshell> double[] y = plan.newConvolver().forward(new ConvShape(8, 1, 64, 4096, 4096, ConvMode.CAUSAL), u, k, null)
 * }</pre>
 * Row loops run on {@link ai.longconv4j.backend.cpu.CpuContext#current()} and are joined before returning.
 */
package ai.longconv4j.conv;
