// Shape legend: L length, N FFT size.
package ai.longconv4j.conv;

/** Which algorithm computes a convolution; {@link #AUTO} lets {@link ConvPlan} choose from its table. */
public enum ConvEngine {
    AUTO,
    /** O(L^2) direct sum, the slow twin (F64 only). */
    DIRECT,
    /** JTransforms real FFTs, padded to an even 2^a 3^b 5^c size. */
    FFT,
    /** FlashButterfly: the FFT as dense DFT-block products (power-of-two N). */
    MONARCH,
    /**
     * Monarch with learnable DFT blocks initialized to the exact DFT (2 factors). Causal only at init: once the
     * blocks train, outputs read future inputs, so language models refuse it; for bidirectional and circular use.
     */
    LEARNED,
    /**
     * The packed learned butterfly ({@link PackedLearnedButterfly}): FlashButterfly's real-input packing (one real row of
     * N points as a complex row of M = N/2) with learnable DFT blocks of the M-point transform (FlashButterfly's own J-factor factorization, 2 factors to
     * M = 1024, up to 5 beyond, {@link ConvPlan}; M &lt;= 2^18), initialized to
     * the exact DFT; the packing's split/merge twiddles stay fixed and fuse with the kernel spectrum into one pair map.
     * Half of {@link #LEARNED}'s transform size per row. Causal only at init, as LEARNED: once the blocks train, outputs
     * read future inputs, so language models refuse it; for bidirectional and circular use. Layers and models register
     * its 2J blocks as LEARNED's ({@link LongConv#dftBlocks}); {@link ConvOps#learnedPackedConv} is its tensor op.
     */
    LEARNED_PACKED,
    /**
     * The causal learned-Monarch convolution ({@link CausalMonarch}): the AUTO convolution between two learned
     * lower-triangular Monarch maps, causal for any block values. A layer engine: {@link ConvPlan} plans only its
     * inner convolution (with AUTO).
     */
    LEARNED_CAUSAL
}
