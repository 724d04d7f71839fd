// Shape legend: not shape-specific.
package ai.longconv4j.models;

import ai.longconv4j.nn.Module;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.optim.ParamGroup;
import ai.longconv4j.optim.ParamGroups;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What the trainer needs from a long-convolution model beyond {@link Module}: its convolution settings
 * and its optimizer groups.
 */
public interface LongConvModel {
    /** The convolution settings the model was built with. */
    ConvSettings conv();

    /**
     * AdamW groups for this model: the default groups at {@code lr} / {@code weightDecay} (biases and
     * norms without decay), the {@value Parameter#KERNEL_GROUP} group at {@link ConvSettings#kernelLr()}
     * with weight decay 0 and the {@value Parameter#BUTTERFLY_GROUP} group at
     * {@link ConvSettings#BUTTERFLY_LR} with weight decay 0.
     */
    default List<ParamGroup> paramGroups(double lr, double weightDecay) {
        return groups((Module) this, conv().kernelLr(), lr, weightDecay);
    }

    /** The groups of {@link #paramGroups} for any module (kernel lr given). */
    static List<ParamGroup> groups(Module m, double kernelLr, double lr, double weightDecay) {
        Set<String> hints = new HashSet<>();
        for (Parameter p : m.parameters()) {
            hints.add(p.group());
        }
        var b = ParamGroups.of(m).lr(lr).weightDecay(weightDecay);
        if (hints.contains(Parameter.KERNEL_GROUP)) {
            b.override(Parameter.KERNEL_GROUP, g -> g.withLr(kernelLr).withWeightDecay(0));
        }
        if (hints.contains(Parameter.BUTTERFLY_GROUP)) {
            b.override(Parameter.BUTTERFLY_GROUP, g -> g.withLr(ConvSettings.BUTTERFLY_LR).withWeightDecay(0));
        }
        return b.build();
    }
}
