/**
 * {@link ai.longconv4j.profile.Profiler}: per-op and per-module wall time, calls, bytes, FLOPs, GB/s and
 * TFLOP/s as a Tablesaw table, fed by the per-thread {@link ai.longconv4j.tensor.OpObserver} hook.
 */
package ai.longconv4j.profile;
