// Shape legend: not shape-specific; every gradient has the shape of the tensor it belongs to.
package ai.longconv4j.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.longconv4j.backend.StorageScope;

/**
 * The reverse-mode engine: graph nodes, the backward pass and the per-thread no-grad state. A node
 * is created only when grad mode is on and some input requires grad. After a backward pass the
 * nodes it went through are freed (their closures dropped) unless the caller retains the graph.
 */
final class Autograd {
    private Autograd() {}

    /** One recorded op: its inputs and the closure that maps dL/dout to dL/dinput_i. */
    static final class Node {
        final String name;
        final Tensor[] inputs;
        Tensor.Backward backward;      // null once freed

        Node(String name, Tensor[] inputs, Tensor.Backward backward) {
            this.name = name;
            this.inputs = inputs;
            this.backward = backward;
        }
    }

    /** False with {@code -Dlongconv4j.autograd.release=false} (an A/B switch): temporaries wait for the GC. */
    static final boolean RELEASE = !"false".equals(System.getProperty("longconv4j.autograd.release"));

    // per-thread grad mode (not a process-global mutable static)
    private static final ThreadLocal<boolean[]> NO_GRAD = ThreadLocal.withInitial(() -> new boolean[1]);

    static boolean gradEnabled() { return !NO_GRAD.get()[0]; }

    static Tensor.NoGrad noGrad() {
        boolean[] state = NO_GRAD.get();
        boolean previous = state[0];
        state[0] = true;
        return () -> state[0] = previous;
    }

    /** Wires {@code result} into the graph when grad mode is on and an input requires grad. */
    static Tensor record(String name, Tensor result, Tensor[] inputs, Tensor.Backward backward) {
        if (!gradEnabled()) return result;
        boolean any = false;
        for (Tensor t : inputs) any |= t != null && t.requiresGrad();
        if (!any) return result;
        result.node = new Node(name, inputs.clone(), backward);
        result.requiresGradFlag = true;
        return result;
    }

    static void backward(Tensor root, Tensor gradOut, boolean retainGraph) {
        if (!root.requiresGrad())
            throw new IllegalStateException("backward: this tensor does not require grad (no input had "
                    + "requiresGrad(true), or it was computed under noGrad() or from detach())");
        if (!java.util.Arrays.equals(gradOut.shape(), root.shape()))
            throw new IllegalArgumentException("backward: gradOut shape " + Shapes.str(gradOut.shape())
                    + " does not match the tensor's shape " + Shapes.str(root.shape()));
        if (gradOut.dtype() != root.dtype()) gradOut = gradOut.detach().to(root.dtype());
        List<Tensor> order = topoOrder(root);
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(root, gradOut.detach());
        // device memory of the pass's temporaries goes back at its end (not at the next GC): everything the rules
        // allocated is dead then except the leaves' gradients; not with a retained graph (its rules may run again)
        StorageScope scope = retainGraph || !RELEASE || StorageScope.active() ? null : StorageScope.open();
        try (var _ = noGrad()) {
            for (int idx = order.size() - 1; idx >= 0; idx--) {
                Tensor t = order.get(idx);
                Tensor gt = grads.remove(t);
                if (gt == null) continue;
                Node node = t.node;
                if (node == null) {            // a leaf
                    // a leaf's grad is always a fresh contiguous tensor: rules may return g itself to two
                    // inputs, or an expanded view, and optimizers write grads in place
                    t.gradField = t.gradField == null ? Raw.convert(gt, t.dtype()) : t.gradField.add(gt);
                    continue;
                }
                OpObserver obs = OpObserver.current();          // profiler hook (null unless installed)
                if (obs != null) obs.onBackwardStart(node.name);
                Tensor[] gs = node.backward.grads(gt);
                if (obs != null) obs.onBackward(node.name, gt, node.inputs);
                if (gs == null || gs.length != node.inputs.length)
                    throw new IllegalStateException("backward of '" + node.name + "' returned "
                            + (gs == null ? "null" : gs.length + " gradients") + ", expected " + node.inputs.length);
                for (int i = 0; i < gs.length; i++) {
                    Tensor in = node.inputs[i];
                    if (in == null || !in.requiresGrad() || gs[i] == null) continue;
                    if (!java.util.Arrays.equals(gs[i].shape(), in.shape()))
                        throw new IllegalStateException("backward of '" + node.name + "': gradient " + i + " has shape "
                                + Shapes.str(gs[i].shape()) + ", expected " + Shapes.str(in.shape()));
                    Tensor gi = gs[i].dtype() == in.dtype() ? gs[i] : gs[i].to(in.dtype());
                    grads.merge(in, gi, Tensor::add);
                }
                if (!retainGraph) node.backward = null;
            }
            if (scope != null) {
                Set<Storage> keep = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
                for (Tensor t : order) {
                    if (t.node == null && t.gradField != null) keep.add(t.gradField.storage());
                }
                scope.releaseAllExcept(keep);
            }
        } finally {
            if (scope != null) scope.close();
        }
    }

    /** Tensors reachable from root through nodes, in topological order (inputs before outputs). */
    private static List<Tensor> topoOrder(Tensor root) {
        List<Tensor> order = new ArrayList<>();
        Map<Tensor, Boolean> seen = new IdentityHashMap<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>();   // {tensor, nextInputIndex}
        stack.push(new Object[]{root, 0});
        seen.put(root, true);
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            Tensor t = (Tensor) top[0];
            Node node = t.node;
            if (node != null && node.backward == null)
                throw new IllegalStateException("backward: the graph through op '" + node.name + "' was already "
                        + "freed by an earlier backward(); recompute the forward pass, or call "
                        + "backward(gradOut, true) the first time to retain the graph");
            int next = (Integer) top[1];
            if (node == null || next >= node.inputs.length) {
                stack.pop();
                order.add(t);
                continue;
            }
            top[1] = next + 1;
            Tensor in = node.inputs[next];
            if (in != null && in.requiresGrad() && seen.put(in, true) == null) stack.push(new Object[]{in, 0});
        }
        return order;
    }
}
