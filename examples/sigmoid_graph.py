"""The sigmoid node, decomposed into `*-1`, `exp`, `+1`, `1/x`, against the fused node's y(1 - y)."""
import math

import graphgrad as gg
from graphgrad.ops.activations import Sigmoid
from graphgrad.ops.arithmetic import Add, Div, Exp, Mul

X = 0.5


def decomposed_by_hand(x: float = X) -> dict:
    """Forward through four nodes, then backward through them in reverse with dout = 1."""
    neg, exp, plus_one, reciprocal = Mul(), Exp(), Add(), Div()
    a = neg.forward(x, -1.0)
    b = exp.forward(a)
    c = plus_one.forward(b, 1.0)
    y = reciprocal.forward(1.0, c)
    _, dc = reciprocal.backward(1.0)  # d(1/c)/dc = -1/c² = -y²
    db, _ = plus_one.backward(dc)  # +1 passes the gradient through
    da = exp.backward(db)  # d(eᵃ)/da = eᵃ
    dx, _ = neg.backward(da)  # ×(-1) flips the sign
    return dict(y=float(y), dx=float(dx))


def fused_by_hand(x: float = X) -> dict:
    sig = Sigmoid()
    y = sig.forward(x)
    return dict(y=float(y), dx=float(sig.backward(1.0)))


def with_tensors(x: float = X) -> dict:
    t = gg.tensor(x, dtype="float64", requires_grad=True)
    y = 1 / (1 + gg.exp(-1 * t))
    y.backward()
    return dict(y=y.item(), dx=t.grad.item())


def main() -> dict:
    y = 1 / (1 + math.exp(-X))
    results = {
        "decomposed, by hand": decomposed_by_hand(),
        "fused sigmoid, by hand": fused_by_hand(),
        "decomposed, tensors": with_tensors(),
        "y(1-y), formula": dict(y=y, dx=y * (1 - y)),
    }
    for title, numbers in results.items():
        print(f"{title:24s} " + "  ".join(f"{k}={v:.10f}" for k, v in numbers.items()))
    return results


if __name__ == "__main__":
    main()
