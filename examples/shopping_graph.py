"""The textbook's shopping graph (chapter 5): apples, oranges and tax, forward and backward.

Computed twice: with the book's layers driven by hand, and with tensors and `.backward()`.
"""
import graphgrad as gg
from graphgrad.book import AddLayer, MulLayer

apple, apple_num, orange, orange_num, tax = 100, 2, 150, 3, 1.1


def apples_by_hand() -> dict:
    """2 apples at 100 with 10% tax, layer by layer as in the book."""
    mul_apple, mul_tax = MulLayer(), MulLayer()
    apple_price = mul_apple.forward(apple, apple_num)
    price = mul_tax.forward(apple_price, tax)
    dapple_price, dtax = mul_tax.backward(1)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    return dict(price=price, dapple=dapple, dapple_num=dapple_num, dtax=dtax)


def apples_and_oranges_by_hand() -> dict:
    """The same with 3 oranges at 150 added before tax."""
    mul_apple, mul_orange, add_fruit, mul_tax = MulLayer(), MulLayer(), AddLayer(), MulLayer()
    apple_price = mul_apple.forward(apple, apple_num)
    orange_price = mul_orange.forward(orange, orange_num)
    all_price = add_fruit.forward(apple_price, orange_price)
    price = mul_tax.forward(all_price, tax)
    dall_price, dtax = mul_tax.backward(1)
    dapple_price, dorange_price = add_fruit.backward(dall_price)
    dorange, dorange_num = mul_orange.backward(dorange_price)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    return dict(price=price, dapple_num=dapple_num, dapple=dapple, dorange=dorange,
                dorange_num=dorange_num, dtax=dtax)


def with_tensors(oranges: bool) -> dict:
    """The same graph recorded by tensors; one call to backward() fills every gradient."""
    leaves = {name: gg.tensor(value, dtype="float64", requires_grad=True)
              for name, value in dict(apple=apple, apple_num=apple_num, orange=orange,
                                      orange_num=orange_num, tax=tax).items()}
    v = leaves
    total = v["apple"] * v["apple_num"]
    if oranges:
        total = total + v["orange"] * v["orange_num"]
    price = total * v["tax"]
    price.backward()
    names = ["apple", "apple_num", "tax"] + (["orange", "orange_num"] if oranges else [])
    return dict(price=price.item(), **{"d" + n: v[n].grad.item() for n in names})


def main() -> dict:
    results = {
        "apples, by hand": apples_by_hand(),
        "apples, tensors": with_tensors(oranges=False),
        "apples and oranges, by hand": apples_and_oranges_by_hand(),
        "apples and oranges, tensors": with_tensors(oranges=True),
    }
    for title, numbers in results.items():
        print(f"{title:28s} " + "  ".join(f"{k}={v:g}" for k, v in numbers.items()))
    return results


if __name__ == "__main__":
    main()
