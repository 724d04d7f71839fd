// Shape legend: small tensors with deliberately mismatched shapes.
package ai.longconv4j.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.*;

/** Bad input fails with a message that names the op and the shapes. */
class ErrorsTest {
    private final Tensor a = Tensor.zeros(DType.F64, 2, 3);

    private static void fails(Class<? extends Throwable> type, Executable e, String... parts) {
        Throwable t = assertThrows(type, e);
        for (String p : parts) assertTrue(t.getMessage().contains(p), "message '" + t.getMessage() + "' lacks '" + p + "'");
    }

    @Test
    void shapeMismatches() {
        fails(IllegalArgumentException.class, () -> a.add(Tensor.zeros(DType.F64, 4)), "add: shapes [2, 3] and [4] cannot be broadcast");
        fails(IllegalArgumentException.class, () -> a.mul(Tensor.zeros(DType.F64, 3, 3)), "mul", "[2, 3]", "[3, 3]");
        fails(IllegalArgumentException.class, () -> a.matmul(Tensor.zeros(DType.F64, 2, 3)), "matmul", "[2, 3]", "inner dims 3 and 2");
        fails(IllegalArgumentException.class, () -> a.matmul(Tensor.zeros(DType.F64)), "matmul", "0-dim");
        fails(IllegalArgumentException.class, () -> a.matmul(Tensor.zeros(DType.F64, 2)), "matmul", "[2, 3]", "[2, 1]");
        fails(IllegalArgumentException.class, () -> a.reshape(4, 2), "reshape", "[2, 3]", "[4, 2]");
        fails(IllegalArgumentException.class, () -> a.reshape(-1, -1), "reshape", "more than one -1");
        fails(IllegalArgumentException.class, () -> a.slice(1, 2, 4), "slice", "[2, 4)", "[2, 3]");
        fails(IllegalArgumentException.class, () -> a.sum(2, false), "sum", "axis 2");
        fails(IllegalArgumentException.class, () -> a.permute(0, 0), "permute", "repeated");
        fails(IllegalArgumentException.class, () -> Tensor.concat(0, a, Tensor.zeros(DType.F64, 2, 4)), "concat", "[2, 3]", "[2, 4]");
        fails(IllegalArgumentException.class, () -> a.expand(4, 3), "expand", "[2, 3]");
        fails(IllegalArgumentException.class, () -> Tensor.of(new double[5], 2, 3), "5 values", "[2, 3]");
        fails(IllegalArgumentException.class, () -> a.item(), "item", "[2, 3]");
        fails(IllegalArgumentException.class, () -> a.get(2, 0), "get", "out of bounds");
        fails(IllegalArgumentException.class, () -> a.crossEntropy(new int[]{0, 3}, -1), "crossEntropy", "target 3");
        fails(IllegalArgumentException.class, () -> a.crossEntropy(new int[]{0}, -1), "crossEntropy", "[2, 3]");
        fails(IllegalArgumentException.class, () -> Tensor.embedding(a, new int[]{2}), "embedding", "id 2");
        fails(IllegalArgumentException.class, () -> a.dropout(1.5, Rng.seeded(0), true), "dropout", "1.5");
    }

    @Test
    void dtypeMismatch() {
        fails(IllegalArgumentException.class, () -> a.add(Tensor.zeros(DType.F32, 2, 3)), "add", "F64", "F32", "[2, 3]");
        fails(IllegalArgumentException.class, () -> a.matmul(Tensor.zeros(DType.F32, 3, 2)), "matmul", "F64", "F32");
        fails(UnsupportedOperationException.class, () -> Tensor.zeros(DType.BF16, 2), "BF16");
    }

    @Test
    void backwardErrors() {
        fails(IllegalStateException.class, () -> a.sum().backward(), "does not require grad");
        Tensor x = Tensor.ones(DType.F64, 3).requiresGrad(true);
        Tensor y = x.mul(2).sum();
        y.backward();
        fails(IllegalStateException.class, y::backward, "already freed", "'sum'");
        fails(IllegalArgumentException.class, () -> x.mul(2).backward(), "not a scalar", "[3]");
        fails(IllegalArgumentException.class, () -> x.mul(2).backward(Tensor.ones(DType.F64, 4)), "gradOut shape [4]", "[3]");
        Tensor z;
        try (var _ = Tensor.noGrad()) {
            z = x.mul(2).sum();
        }
        fails(IllegalStateException.class, z::backward, "noGrad");
    }
}
