"""The CS231n gates: f = (x + y) z, and the add, max and multiply gates' gradient patterns."""
import graphgrad as gg
from graphgrad.book import AddLayer, MulLayer


def simple_by_hand() -> dict:
    """f = (x + y) z at x=-2, y=5, z=-4, one gate at a time."""
    add, mul = AddLayer(), MulLayer()
    q = add.forward(-2, 5)
    f = mul.forward(q, -4)
    dq, dz = mul.backward(1)
    dx, dy = add.backward(dq)
    return dict(f=f, dx=dx, dy=dy, dz=dz)


def simple_with_tensors() -> dict:
    x, y, z = (gg.tensor(v, dtype="float64", requires_grad=True) for v in (-2, 5, -4))
    f = (x + y) * z
    f.backward()
    return dict(f=f.item(), dx=x.grad.item(), dy=y.grad.item(), dz=z.grad.item())


def gates_with_tensors() -> dict:
    """f = 2 (x·y + max(z, w)) at x=3, y=-4, z=2, w=-1.

    The add gate hands its gradient (2) to both inputs; the max gate routes it to the larger
    input z and gives w nothing; the multiply gate swaps its inputs: dx = 2y, dy = 2x.
    """
    x, y, z, w = (gg.tensor(v, dtype="float64", requires_grad=True) for v in (3, -4, 2, -1))
    f = 2 * (x * y + gg.maximum(z, w))
    f.backward()
    return dict(f=f.item(), dx=x.grad.item(), dy=y.grad.item(), dz=z.grad.item(), dw=w.grad.item())


def main() -> dict:
    results = {
        "(x+y)z, by hand": simple_by_hand(),
        "(x+y)z, tensors": simple_with_tensors(),
        "2(xy+max(z,w)), tensors": gates_with_tensors(),
    }
    for title, numbers in results.items():
        print(f"{title:24s} " + "  ".join(f"{k}={v:g}" for k, v in numbers.items()))
    return results


if __name__ == "__main__":
    main()
