"""The two kinds of op namespace: direct NumPy calls, and any Array-API library via array-api-compat.

Both offer the same names: the Array API standard's (`exp`, `sum(x, axis, keepdims)`,
`permute_dims`, `concat`, `astype(x, dtype)`, ...) plus the few the standard lacks and ops need
(`sum_to`, `scatter_add`, `scatter_reduce_along`, `masked_product`, `pick`, `shared_ones`,
`row_reducible`, `windows`). `NumpyOps` calls NumPy's methods and ufuncs directly: a generic
wrapper would add microseconds to every op.
"""
from __future__ import annotations

import math

import numpy as np


def is_floating(dtype) -> bool:
    """True for a real floating-point dtype of any array library."""
    try:
        return np.issubdtype(np.dtype(dtype), np.floating)
    except TypeError:
        return "float" in str(dtype) and "complex" not in str(dtype)


def to_numpy(x) -> np.ndarray:
    """A host NumPy copy of an array of any library (the ndarray itself for NumPy)."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, np.generic):
        return np.asarray(x)
    if type(x).__module__.startswith("cupy"):
        return x.get()
    try:
        return np.from_dlpack(x)
    except (TypeError, RuntimeError, BufferError, AttributeError, ValueError):
        pass
    host = x.__array_namespace__().__array_namespace_info__().default_device()  # the library's CPU
    return np.from_dlpack(x.to_device(host))


def _identity(xp, reduce: str, dtype):
    """Where reduce ('sum', 'prod', 'amax', 'amin') starts in `dtype`: 0, 1, or the dtype's lowest or highest value."""
    if reduce in ("sum", "prod"):
        return int(reduce == "prod")
    if is_floating(dtype):
        return -math.inf if reduce == "amax" else math.inf
    info = xp.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _reduce_axes(g_shape: tuple, shape: tuple) -> tuple:
    lead = len(g_shape) - len(shape)
    return tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g_shape[lead + i] != 1
    )


def _hits_each_element_once(index) -> bool:
    """True for ints, slices, None, Ellipsis and boolean masks: no element can repeat."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
        or (getattr(i, "dtype", None) is not None and "bool" in str(i.dtype))
        for i in items
    )


class NumpyOps:
    """The op namespace for NumPy arrays: direct calls, no wrappers."""

    name = "numpy"
    differentiable = False  # graphgrad's tensor namespace says True
    # staticmethod: NumPy's Python-level functions (zeros_like, stack, ...) would otherwise bind as methods
    for _name in ("exp", "log", "log1p", "expm1", "sqrt", "tanh", "abs", "sign", "maximum", "minimum", "where",
                  "isfinite", "matmul", "asarray", "result_type", "zeros_like", "ones_like", "empty_like", "arange",
                  "eye", "expand_dims", "squeeze", "take_along_axis", "clip", "logaddexp", "square", "argmax",
                  "argmin"):
        locals()[_name] = staticmethod(getattr(np, _name))
    concat, stack = staticmethod(np.concatenate), staticmethod(np.stack)
    del _name
    bool, float32, float64, int64 = np.bool_, np.float32, np.float64, np.int64

    @staticmethod
    def sum(x, axis=None, keepdims=False, dtype=None):
        """x summed over `axis` (None: all), `keepdims` and the accumulator `dtype` as NumPy's."""
        return x.sum(axis=axis, keepdims=keepdims, dtype=dtype)

    @staticmethod
    def max(x, axis=None, keepdims=False):
        """The maximum over `axis` (None: all), `keepdims` as NumPy's."""
        return x.max(axis=axis, keepdims=keepdims)

    @staticmethod
    def min(x, axis=None, keepdims=False):
        """The minimum over `axis` (None: all), `keepdims` as NumPy's."""
        return x.min(axis=axis, keepdims=keepdims)

    @staticmethod
    def reshape(x, shape):
        """x in `shape` (a view where NumPy can make one)."""
        return x.reshape(shape)

    @staticmethod
    def permute_dims(x, axes):
        """x with its axes in the order `axes` (a view)."""
        return x.transpose(axes)

    @staticmethod
    def astype(x, dtype, copy=True):
        """x cast to `dtype`; `copy=False` returns x itself when it has that dtype."""
        return x.astype(dtype, copy=copy)

    @staticmethod
    def dtype(name):
        """The NumPy dtype named `name` (a string, type or dtype)."""
        return np.dtype(name)

    @staticmethod
    def zeros(shape, dtype=None, like=None):
        """A new array of zeros (`like` is accepted for the namespaces' common signature; NumPy ignores it)."""
        return np.zeros(shape, dtype=dtype)

    @staticmethod
    def ones(shape, dtype=None, like=None):
        """A new array of ones (`like` is accepted for the namespaces' common signature; NumPy ignores it)."""
        return np.ones(shape, dtype=dtype)

    @staticmethod
    def full(shape, value, dtype=None, like=None):
        """A new array filled with `value` (`like` is accepted for the namespaces' common signature; NumPy ignores it)."""
        return np.full(shape, value, dtype=dtype)

    @staticmethod
    def broadcast_to(g, shape):
        """`g` repeated to `shape`, as a new array (cheaper than np.broadcast_to's view for small arrays)."""
        out = np.empty(shape, dtype=g.dtype)
        out[...] = g
        return out

    @staticmethod
    def sum_to(g, shape):
        """Sum a broadcast gradient back to `shape`."""
        if g.shape == shape:
            return g
        if g.shape[1:] == shape:  # the bias case: sum over the batch axis
            return g.sum(axis=0)
        return g.sum(axis=_reduce_axes(g.shape, shape), keepdims=True).reshape(shape)

    @staticmethod
    def scatter_add(shape, index, values):
        """Zeros of `shape` with `values` added at `index`; repeated indices accumulate."""
        out = np.zeros(shape, dtype=values.dtype)
        if _hits_each_element_once(index):
            out[index] = values
        else:
            np.add.at(out, index, values)
        return out

    @staticmethod
    def getitem(x, index):
        """x[index] with NumPy's indexing rules."""
        return x[index]

    @staticmethod
    def scatter_add_along(shape, dim, index, values):
        """Zeros of `shape` with values[i, j, ...] added at index[i, j, ...] along `dim` (repeats accumulate)."""
        out = np.zeros(shape, dtype=values.dtype)
        grid = list(np.indices(index.shape, sparse=True))
        grid[dim] = index
        np.add.at(out, tuple(grid), values)
        return out

    @staticmethod
    def scatter_reduce_along(shape, dim, index, values, reduce):
        """scatter_add_along for reduce 'sum', 'prod', 'amax' or 'amin': the reduction's identity where nothing lands."""
        out = np.full(shape, _identity(np, reduce, values.dtype), dtype=values.dtype)
        grid = list(np.indices(index.shape, sparse=True))
        grid[dim] = index
        {"sum": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum}[reduce].at(out, tuple(grid), values)
        return out

    @staticmethod
    def masked_product(g, m):
        """g·m, and exactly 0 wherever m is 0 or False, also where g is ±inf or NaN.

        The gradient of a selection (ReLU, clamp, max) is 0 where it did not select, as PyTorch's;
        IEEE's inf·0 would be NaN. One multiply when g is finite (a sum tells), `where` otherwise.
        """
        product = g * m
        if math.isfinite(g.sum()):
            return product
        return np.where(m != 0, product, 0)

    @staticmethod
    def pick(x, t):
        """x[n, t[n]] for every row n of a 2-D x."""
        return x[_rows(len(t)), t]

    @staticmethod
    def row_reducible(x):
        """`x` (N, C), or a column-major copy when that reduces along axis 1 faster.

        NumPy reduces a row-major array along its last axis one row at a time, which for short rows
        costs more than the arithmetic; a column-major copy is reduced in vectorised passes down its
        columns instead (measured: a 100x10 row max in 1.6 us instead of 4.5; a softmax with
        cross-entropy 0.7x the time at 100x10, 0.3x at 1000x10). Long rows keep their order.
        """
        n, c = x.shape
        return np.asfortranarray(x) if n >= 32 and c <= 32 else x

    _ones: dict = {}

    @classmethod
    def shared_ones(cls, like):
        """Read-only cached ones like `like`; a NumPy scalar for a 0-d array (10x faster arithmetic)."""
        if like.ndim == 0:
            return like.dtype.type(1)
        key = (like.shape, like.dtype)
        one = cls._ones.get(key)
        if one is None:
            one = cls._ones[key] = np.ones_like(like)
            one.flags.writeable = False
        return one

    @staticmethod
    def windows(x, axes, size, stride, dilation):
        """A read-only strided view of x's sliding windows (no copy).

        Each axis in `axes` becomes the window positions along it (window `size`, `stride`,
        `dilation` per axis); the windows' own axes are appended, in `axes` order.
        """
        shape, strides = list(x.shape), list(x.strides)
        for a, k, s, d in zip(axes, size, stride, dilation):
            shape[a] = (x.shape[a] - d * (k - 1) - 1) // s + 1
            strides[a] = x.strides[a] * s
        shape += list(size)
        strides += [x.strides[a] * d for a, d in zip(axes, dilation)]
        return np.lib.stride_tricks.as_strided(x, tuple(shape), tuple(strides), writeable=False)

    @staticmethod
    def argsort(x, axis=-1, descending=False, stable=True):
        """The standard's argsort: stable, and descending keeps equal elements in their order."""
        if descending:  # reversing an ascending sort would reverse the ties: sort a decreasing key instead
            kind = x.dtype.kind
            x = ~x if kind == "b" else -x.astype(np.int64) if kind == "u" else -x
        return np.argsort(x, axis=axis, kind="stable")

    @staticmethod
    def device(x):
        """'cpu': NumPy arrays live in host memory."""
        return "cpu"

    @staticmethod
    def erf(x):
        """The error function (SciPy's when installed, else math.erf elementwise)."""
        return _erf(np, x)

    def __getattr__(self, name):
        """Any other NumPy function (Array-API names: asin, atan2, bitwise_left_shift, ...)."""
        try:
            return getattr(np, name)
        except AttributeError:
            raise AttributeError(f"graphgrad's NumPy namespace has no function {name!r}") from None

    def __repr__(self) -> str:
        return "<graphgrad ops: numpy>"

    # ---- for the convolution, pooling and padding ops (graphgrad/ops/conv.py, pooling.py, padding.py) ----
    take = staticmethod(np.take)

    @staticmethod
    def constant(a: np.ndarray, like, dtype=None):
        """Host array `a` where `like` lives, as `dtype` (default: like's dtype)."""
        return a.astype(like.dtype if dtype is None else dtype, copy=False)

    @staticmethod
    def scatter_add_rows(shape: tuple, index, values):
        """Zeros of 2-D `shape` with values[r, j] added at (r, index[r, j]); repeated indices add up."""
        rows, width = shape
        flat = index + (np.arange(rows, dtype=np.int64) * width)[:, None]
        sums = np.bincount(flat.ravel(), weights=values.ravel(), minlength=rows * width)
        return sums.astype(values.dtype, copy=False).reshape(shape)


def _erf(np_, x):
    try:
        from scipy.special import erf
    except ImportError:
        import math

        out = np_.frompyfunc(math.erf, 1, 1)(x)
        return np_.asarray(out, dtype=x.dtype if np_.issubdtype(x.dtype, np_.floating) else np_.float32)
    return erf(x)


_ROWS: dict = {}


def _flat_positions(shape: tuple, index) -> np.ndarray:
    """The flat positions x[index] reads in an array of `shape`, computed on the host by NumPy's indexing rules."""
    items = index if isinstance(index, tuple) else (index,)
    host = tuple(to_numpy(i) if hasattr(i, "shape") else i for i in items)
    return np.arange(math.prod(shape)).reshape(shape)[host if isinstance(index, tuple) else host[0]]


def _rows(n: int) -> np.ndarray:
    """0..n-1 (read-only, cached: every cross-entropy step asks for it)."""
    rows = _ROWS.get(n)
    if rows is None:
        rows = _ROWS[n] = np.arange(n)
        rows.flags.writeable = False
    return rows


def _row_index(index):
    """The integer array of `x[i]`, `x[i, ...]` or `x[i, :]` (rows picked by a 1-D integer array), or None."""
    if isinstance(index, tuple):
        if not index or not all(i is Ellipsis or (isinstance(i, slice) and i == slice(None)) for i in index[1:]):
            return None
        index = index[0]
    if hasattr(index, "shape") and index.ndim == 1 and "int" in str(index.dtype):
        return index
    return None


class GenericOps:
    """The op namespace for any Array-API library (through array-api-compat), plus graphgrad's extras."""

    differentiable = False

    def __init__(self, base):
        """Wrap the Array-API namespace `base`; `name` is its module name."""
        self.base = base
        self.name = getattr(base, "__name__", str(base))

    def __getattr__(self, name):
        return getattr(self.base, name)

    def dtype(self, name):
        """The library's dtype for `name` given as a string or a NumPy dtype; anything else (a library dtype) is returned as is."""
        return name if not isinstance(name, str) and not isinstance(name, np.dtype) else getattr(self.base, np.dtype(name).name)

    def device(self, x):
        """The device `x` lives on (array-api-compat's `device(x)`)."""
        import array_api_compat

        return array_api_compat.device(x)

    def concat(self, xs, axis=0):
        """The arrays `xs` joined along the existing `axis`."""
        return self.base.concat(list(xs), axis=axis)

    def stack(self, xs, axis=0):
        """The arrays `xs` joined along a new `axis`."""
        return self.base.stack(list(xs), axis=axis)

    def squeeze(self, x, axis=None):
        """x without the size-1 axes `axis` (every size-1 axis when None, as NumPy's)."""
        if axis is None:
            axis = tuple(i for i, n in enumerate(x.shape) if n == 1)
        return self.base.squeeze(x, axis=axis)

    def where(self, cond, x, y):
        """x where `cond` holds, else y (elementwise, broadcast)."""
        return self.base.where(cond, x, y)

    def zeros(self, shape, dtype=None, like=None):
        """A new array of zeros, on `like`'s device when given."""
        return self.base.zeros(shape, dtype=dtype, device=None if like is None else self.device(like))

    def ones(self, shape, dtype=None, like=None):
        """A new array of ones, on `like`'s device when given."""
        return self.base.ones(shape, dtype=dtype, device=None if like is None else self.device(like))

    def full(self, shape, value, dtype=None, like=None):
        """A new array filled with `value`, on `like`'s device when given."""
        return self.base.full(shape, value, dtype=dtype, device=None if like is None else self.device(like))

    def arange(self, *args, like=None, **kw):
        """The library's arange(start, stop, step), on `like`'s device when given."""
        return self.base.arange(*args, device=None if like is None else self.device(like), **kw)

    def broadcast_to(self, g, shape):
        """g broadcast to `shape`."""
        return self.base.broadcast_to(g, tuple(shape))

    def sum_to(self, g, shape):
        """Sum a broadcast gradient back to `shape`."""
        if tuple(g.shape) == tuple(shape):
            return g
        return self.base.reshape(self.base.sum(g, axis=_reduce_axes(g.shape, shape), keepdims=True), tuple(shape))

    def scatter_add(self, shape, index, values):
        """Zeros of `shape` with `values` added at `index` (any NumPy index), on the values' device."""
        xp = self.base
        if _hits_each_element_once(index):
            out = xp.zeros(shape, dtype=values.dtype, device=self.device(values))
            out[index] = values
            return out
        pos = _flat_positions(shape, index)
        return xp.reshape(self._scatter_flat(math.prod(shape), xp.asarray(pos, device=self.device(values)), values), shape)

    def getitem(self, x, index):
        """x[index] with NumPy's rules where the standard is narrower (integer arrays beside slices, ...)."""
        rows = _row_index(index)
        if rows is not None:
            rows = self.base.asarray(rows, device=self.device(x)) if isinstance(rows, np.ndarray) else rows
            return self.base.take(x, rows, axis=0)
        try:
            return x[index]
        except (IndexError, TypeError):  # an index the library refuses: take the same elements by flat position
            pos = _flat_positions(tuple(x.shape), index)
            flat = self.base.take(self.base.reshape(x, (-1,)), self.base.asarray(pos.ravel(), device=self.device(x)))
            return self.base.reshape(flat, pos.shape)

    def scatter_add_along(self, shape, dim, index, values):
        """Zeros of `shape` with values added at index along `dim` (gather's adjoint), on the values' device."""
        pos = self._positions_along(shape, dim, index, values)
        return self.base.reshape(self._scatter_flat(math.prod(shape), pos, values), tuple(shape))

    def scatter_reduce_along(self, shape, dim, index, values, reduce):
        """scatter_add_along for reduce 'sum', 'prod', 'amax' or 'amin': the reduction's identity where nothing lands."""
        if reduce == "sum":
            return self.scatter_add_along(shape, dim, index, values)
        xp, size, device = self.base, math.prod(shape), self.device(values)
        pos = xp.reshape(self._positions_along(shape, dim, index, values), (-1,))
        values = xp.reshape(values, (-1,))
        start = _identity(xp, reduce, values.dtype)
        if "cupy" in self.name and reduce != "prod" and values.dtype in (xp.float32, xp.float64):
            # array_api_compat.cupy: cupyx has no scatter_prod, and its scatter_max/min take no int64 or float16
            import cupyx

            out = xp.full((size,), start, dtype=values.dtype)
            (cupyx.scatter_max if reduce == "amax" else cupyx.scatter_min)(out, pos, values)
        elif not pos.shape[0]:  # no values (the max of none is an error)
            out = xp.full((size,), start, dtype=values.dtype, device=device)
        else:  # the standard has no scatter: each position reduces a one-hot mask of the values (size x len(pos))
            hits = xp.arange(size, device=device)[:, None] == pos[None, :]
            picked = xp.where(hits, values[None, :], xp.asarray(start, dtype=values.dtype, device=device))
            out = xp.prod(picked, axis=1, dtype=values.dtype) if reduce == "prod" else (
                xp.max if reduce == "amax" else xp.min)(picked, axis=1)
        return xp.reshape(out, tuple(shape))

    def _positions_along(self, shape, dim, index, like):
        """The flat positions index addresses along `dim` in an array of `shape` (index's shape, on like's device)."""
        xp = self.base
        positions = xp.reshape(xp.arange(math.prod(shape), device=self.device(like)), tuple(shape))
        region = tuple(slice(0, n) if d != dim else slice(None) for d, n in enumerate(index.shape))
        return xp.take_along_axis(positions[region], index, axis=dim)

    def _scatter_flat(self, size: int, pos, values):
        """A 1-D array of `size` zeros with values added at flat positions `pos` (repeats accumulate)."""
        xp = self.base
        pos, values = xp.reshape(pos, (-1,)), xp.reshape(values, (-1,))
        if "cupy" in self.name:  # array_api_compat.cupy
            import cupyx

            out = xp.zeros((size,), dtype=values.dtype)
            cupyx.scatter_add(out, pos, values)
            return out
        # The standard has no scatter: a one-hot matrix product (memory size x len(pos); fine for tests, not for GPUs)
        hits = xp.astype(xp.arange(size, device=self.device(values))[:, None] == pos[None, :], values.dtype)
        return hits @ values

    def masked_product(self, g, m):
        """g·m, and exactly 0 wherever m is 0 or False, also where g is ±inf or NaN (NumpyOps.masked_product)."""
        xp = self.base
        if m.dtype == xp.bool:
            return xp.where(m, g, xp.zeros_like(g))
        product = g * m
        return xp.where(m != 0, product, xp.zeros_like(product))

    def pick(self, x, t):
        """x[n, t[n]] for every row n of a 2-D x."""
        return self.base.take_along_axis(x, t[:, None], axis=1)[:, 0]

    def windows(self, x, axes, size, stride, dilation):
        """x's sliding windows as NumpyOps.windows lays them out, built by slicing and stacking."""
        import itertools

        xp = self.base
        counts = [(x.shape[a] - d * (k - 1) - 1) // s + 1 for a, k, s, d in zip(axes, size, stride, dilation)]
        slabs = []
        for offsets in itertools.product(*[range(k) for k in size]):
            index = [slice(None)] * x.ndim
            for a, o, n, s, d in zip(axes, offsets, counts, stride, dilation):
                index[a] = slice(o * d, o * d + s * (n - 1) + 1, s)
            slabs.append(x[tuple(index)])
        return xp.reshape(xp.stack(slabs, axis=-1), tuple(slabs[0].shape) + tuple(size))

    def argsort(self, x, axis=-1, descending=False, stable=True):
        """The indices that sort x along `axis` (`descending`, `stable` as the Array API's argsort)."""
        return self.base.argsort(x, axis=axis, descending=descending, stable=stable)

    def cumsum(self, x, axis=None):
        """The cumulative sum along `axis` (the Array API's cumulative_sum)."""
        return self.base.cumulative_sum(x, axis=axis)

    def cumprod(self, x, axis=None):
        """The cumulative product along `axis` (the Array API's cumulative_prod)."""
        return self.base.cumulative_prod(x, axis=axis)

    def flip(self, x, axis=None):
        """x reversed along `axis` (all axes when None)."""
        return self.base.flip(x, axis=axis)

    def roll(self, x, shift, axis=None):
        """x shifted cyclically by `shift` along `axis` (flattened when None)."""
        return self.base.roll(x, shift=shift, axis=axis)

    def exp2(self, x):
        """2ˣ, as pow(2, x) in x's dtype and on its device (the Array API has no exp2)."""
        return self.base.pow(self.base.asarray(2.0, dtype=x.dtype, device=self.device(x)), x)

    def fmod(self, x, y):
        """C's fmod: the remainder with the sign of x (the standard's remainder takes y's sign)."""
        r = self.base.remainder(x, y)
        return self.base.where((r != 0) & ((r < 0) != (x < 0)), r - y, r)

    def isclose(self, a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
        """|a - b| <= atol + rtol·|b| elementwise (equal values always; NaNs equal when `equal_nan`), as NumPy's isclose."""
        xp = self.base
        close = (a == b) | (xp.abs(a - b) <= atol + rtol * xp.abs(b))
        return close | (xp.isnan(a) & xp.isnan(b)) if equal_nan else close

    def einsum(self, equation, *operands):
        """The library's einsum, or (the Array API standard defines none) one built from matmul and sum."""
        if hasattr(self.base, "einsum"):
            return self.base.einsum(equation, *operands)
        from .einsum import einsum

        return einsum(self.base, equation, *operands)

    def row_reducible(self, x):
        """x itself (NumPy's namespace may return a copy that reduces faster; other libraries need none)."""
        return x

    def erf(self, x):
        """The error function: the library's own if it has one, else computed on the host."""
        if hasattr(self.base, "erf"):
            return self.base.erf(x)
        import numpy

        return self.base.asarray(_erf(numpy, to_numpy(x)), device=self.device(x))

    def shared_ones(self, like):
        """Ones like `like` (a fresh array: only NumPy's namespace caches them)."""
        return self.base.ones_like(like)

    def __repr__(self) -> str:
        return f"<graphgrad ops: {self.name}>"

    # ---- for the convolution, pooling and padding ops (graphgrad/ops/conv.py, pooling.py, padding.py) ----
    def constant(self, a: np.ndarray, like, dtype=None):
        """Host array `a` in like's library and on its device, as `dtype` (default: like's dtype)."""
        return self.base.asarray(a, dtype=like.dtype if dtype is None else dtype, device=self.device(like))

    def scatter_add_rows(self, shape: tuple, index, values):
        """Zeros of 2-D `shape` with values[r, j] added at (r, index[r, j]); repeated indices add up."""
        xp = self.base
        if "cupy" in self.name:
            import cupyx

            out = xp.zeros(shape, dtype=values.dtype)
            cupyx.scatter_add(out, (xp.arange(shape[0])[:, None], index), values)
            return out
        # The standard has no scatter: each row's values times a one-hot of its indices (rows·L·width numbers).
        hits = index[:, :, None] == xp.arange(shape[1], dtype=index.dtype, device=self.device(values))
        return xp.matmul(values[:, None, :], xp.astype(hits, values.dtype))[:, 0, :]
