// Shapes: none; a schedule maps an optimizer step (0-based) to a learning-rate value or factor.
package ai.longconv4j.optim;

/**
 * A learning-rate schedule: {@code lr(step)} for the 0-based optimizer step. Attached to an
 * {@link Optimizer}, its value multiplies each group's base lr, so factor schedules (peak 1) are the
 * usual form; {@link #times} turns one into an absolute schedule.
 *
 * <pre>{@code
 * jshell> var s = Schedule.warmupCosine(10, 100, 0.1)
 * s ==> WarmupCosine[warmup=10, total=100, floor=0.1]
 * jshell> s.lr(0) + " " + s.lr(9) + " " + s.lr(55) + " " + s.lr(100)
 * $2 ==> "0.1 1.0 0.55 0.1"
 * }</pre>
 */
@FunctionalInterface
public interface Schedule {
    /** The value at the 0-based step {@code step >= 0}. */
    double lr(long step);

    /** This schedule scaled by {@code factor}. */
    default Schedule times(double factor) {
        return new Scaled(this, factor);
    }

    /** The schedule of {@link #times}: {@code factor · base.lr(step)}. */
    record Scaled(Schedule base, double factor) implements Schedule {
        @Override
        public double lr(long step) {
            return factor * base.lr(step);
        }
    }

    /** The same value at every step. */
    static Schedule constant(double value) {
        return new Constant(value);
    }

    /** The schedule of {@link #constant}. */
    record Constant(double value) implements Schedule {
        @Override
        public double lr(long step) {
            return value;
        }
    }

    /**
     * Linear warmup then cosine decay to a floor, as a factor with peak 1:
     * <ul>
     * <li>{@code step < warmup}: {@code (step + 1) / warmup} (so the first step is not wasted and step
     *     {@code warmup - 1} reaches 1);</li>
     * <li>{@code warmup <= step < total}: {@code floor + (1 - floor) · (1 + cos(π · p)) / 2} with
     *     {@code p = (step - warmup) / (total - warmup)};</li>
     * <li>{@code step >= total}: {@code floor}.</li>
     * </ul>
     *
     * @param warmup number of warmup steps, {@code >= 0}
     * @param total  step at which the decay reaches the floor, {@code >= warmup}
     * @param floor  final factor in [0, 1]
     */
    static Schedule warmupCosine(long warmup, long total, double floor) {
        return new WarmupCosine(warmup, total, floor);
    }

    /** The schedule of {@link #warmupCosine}. */
    record WarmupCosine(long warmup, long total, double floor) implements Schedule {
        /** Validates the arguments as {@link Schedule#warmupCosine} documents. */
        public WarmupCosine {
            if (warmup < 0 || total < warmup || !(floor >= 0 && floor <= 1)) {
                throw new IllegalArgumentException("Schedule.warmupCosine: need 0 <= warmup <= total and floor in"
                        + " [0, 1], got warmup=" + warmup + ", total=" + total + ", floor=" + floor);
            }
        }

        @Override
        public double lr(long step) {
            if (step < 0) {
                throw new IllegalArgumentException("Schedule: step must be >= 0, got " + step);
            }
            if (step < warmup) {
                return (step + 1) / (double) warmup;
            }
            if (step >= total) {
                return floor;
            }
            double p = (step - warmup) / (double) (total - warmup);
            return floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * p));
        }
    }
}
