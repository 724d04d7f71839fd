// Shape legend: not shape-specific.
package ai.longconv4j.backend;

import ai.longconv4j.tensor.Storage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Collects the device storages that backends create on this thread while a scope is open, so that their memory can
 * be given back as soon as the code that made them is known to be done with them, instead of when the garbage
 * collector finds them unreachable (a device fills up with dead buffers long before the Java heap asks for a
 * collection). Autograd's backward opens one: what the gradient rules allocate is dead after the pass except the
 * leaves' gradients. Backends call {@link #created} for every storage they make; CPU storages are not collected.
 * A storage used after {@link Storage#release()} fails loudly (CUDA: "DeviceBuffer ... is closed").
 * <pre>{@code
 * try (var scope = StorageScope.open()) { ... scope.releaseAllExcept(keep); }
 * }</pre>
 */
public final class StorageScope implements AutoCloseable {
    private static final ThreadLocal<StorageScope> CURRENT = new ThreadLocal<>();

    private final StorageScope parent;
    private final List<Storage> created = new ArrayList<>();
    private boolean done;

    private StorageScope(StorageScope parent) {
        this.parent = parent;
    }

    /** Opens a scope on this thread (nested scopes hand what they did not release to their parent on close). */
    public static StorageScope open() {
        StorageScope s = new StorageScope(CURRENT.get());
        CURRENT.set(s);
        return s;
    }

    /** Whether a scope is open on this thread. */
    public static boolean active() {
        return CURRENT.get() != null;
    }

    /** Called by backends for each device storage they create. */
    public static void created(Storage s) {
        StorageScope sc = CURRENT.get();
        if (sc != null) {
            sc.created.add(s);
        }
    }

    /** Number of storages collected so far. */
    public int size() {
        return created.size();
    }

    /**
     * Releases every storage created in this scope except those in {@code keep} (compared by identity); returns how
     * many were released. The scope keeps nothing afterwards.
     */
    public int releaseAllExcept(Set<Storage> keep) {
        Set<Storage> k = Collections.newSetFromMap(new IdentityHashMap<>());
        k.addAll(keep);
        int n = 0;
        for (Storage s : created) {
            if (!k.contains(s)) {
                s.release();
                n++;
            }
        }
        created.clear();
        done = true;
        return n;
    }

    /** Ends the scope; what was not released goes to the enclosing scope, if any. */
    @Override
    public void close() {
        if (CURRENT.get() == this) {
            CURRENT.set(parent);
        }
        if (!done && parent != null) {
            parent.created.addAll(created);
        }
        created.clear();
    }
}
