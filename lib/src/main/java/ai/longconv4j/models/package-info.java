/**
 * Long-convolution models: {@link ai.longconv4j.models.LongConvLM} (H3 or plain long-conv mixers, tied head;
 * the causal learned-butterfly LM via {@link ai.longconv4j.models.LongConvLM#learnedButterfly()}),
 * {@link ai.longconv4j.models.LongConvClassifier} (LRA-style), the {@link ai.longconv4j.models.H3Conv} mixer,
 * the shared {@link ai.longconv4j.models.ConvSettings}, {@link ai.longconv4j.models.Causality#assertCausal} and
 * seeded sampling ({@link ai.longconv4j.models.Generation}).
 */
package ai.longconv4j.models;
