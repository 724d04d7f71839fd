/**
 * Training: {@link ai.longconv4j.train.Trainer} (AdamW groups, warmup + cosine, accumulation, clipping,
 * evaluation, checkpoints, NaN guard, interrupt and time limit), {@link ai.longconv4j.train.Objectives}, the
 * {@link ai.longconv4j.train.History} table and plot, and progress listeners
 * ({@link ai.longconv4j.train.TerminalProgress}).
 */
package ai.longconv4j.train;
