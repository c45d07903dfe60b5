"""The library's one source of randomness.

Every random draw in tensorlite (``rand``, ``randn``, dropout masks, initialisers,
DataLoader shuffling, augmentation) goes through :func:`generator`, so
``tl.manual_seed(n)`` makes a whole run reproducible.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import check_tensor

_state = {"gen": np.random.default_rng(0)}


def manual_seed(seed: int) -> None:
    """Reseed the library's generator."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _state["gen"] = np.random.default_rng(int(seed))


def generator() -> np.random.Generator:
    """The generator every random draw in the library uses."""
    return _state["gen"]


class Generator:
    """PyTorch's ``torch.Generator``: a random stream of its own, for the ``generator=``
    arguments (DataLoader, the samplers, random_split, the sampling ops, nn.init), so that
    one part of a program can be reproducible without reseeding the library's generator.

        g = tl.Generator().manual_seed(1)
        loader = tl.data.DataLoader(data, batch_size=32, shuffle=True, generator=g)
    """

    _DEFAULT_SEED = 67280421310721   # PyTorch's default seed for a new generator

    def __init__(self, device: Any = "cpu") -> None:
        from .device import check_device
        check_device(device, "Generator")
        self.device = "cpu"
        self.manual_seed(self._DEFAULT_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"Generator.manual_seed: seed must be an int, got "
                            f"{type(seed).__name__}")
        self._seed = int(seed)
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        seed = int(np.random.SeedSequence().entropy % (1 << 63))
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> "Generator":
        self._rng.bit_generator.state = state
        return self

    def __repr__(self) -> str:
        return f"<tensorlite.Generator seed={self._seed}>"


def as_numpy_generator(op: str, gen: Any) -> np.random.Generator:
    """The numpy Generator behind a ``generator=`` argument: None means the library's own
    (seeded by ``manual_seed``); a ``tl.Generator`` or a numpy Generator is used as given."""
    if gen is None:
        return _state["gen"]
    if isinstance(gen, Generator):
        return gen._rng
    if isinstance(gen, np.random.Generator):
        return gen
    raise TypeError(f"{op}: generator must be None (the library generator), a tl.Generator "
                    f"or a numpy.random.Generator, got {type(gen).__name__}")


def get_rng_state() -> dict:
    return _state["gen"].bit_generator.state


def set_rng_state(state: dict) -> None:
    gen = np.random.default_rng()
    gen.bit_generator.state = state
    _state["gen"] = gen


# ---------------------------------------------------------------------------------------
# Sampling ops: multinomial, bernoulli, normal, and the in-place initialisers.
#
# Samples carry no gradient (PyTorch's derivatives of these are zero): results never
# require grad. Every argument is checked before the generator is touched, so a refused
# call leaves the random stream where it was.
# ---------------------------------------------------------------------------------------
def _gen(op: str, gen: Any) -> np.random.Generator:
    return as_numpy_generator(op, gen)


def _number(op: str, name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a real number, got {type(value).__name__} "
                        f"{value!r:.40}")
    return float(value)


def _result(arr: np.ndarray) -> Any:
    from .tensor import _make
    return _make(arr, False, None, 0, None)


def multinomial(input: Any, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Any = None) -> Any:
    """Indices drawn from the categories of each row of ``input`` (1-D or 2-D), with
    probabilities proportional to its non-negative weights (they need not sum to 1).

    Without replacement a row must have at least ``num_samples`` non-zero weights; the
    indices come in the order they were drawn. Returns int64 of shape (num_samples,) or
    (rows, num_samples)."""
    op = "multinomial"
    check_tensor(op, "input", input)
    from ._checks import check_int, shape_str
    if input._data.ndim not in (1, 2):
        raise ValueError(f"{op}: input must be 1-D or 2-D, got shape {shape_str(input.shape)}")
    if input._data.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point tensor of weights, got dtype "
                        f"{input.dtype}")
    n = check_int(op, "num_samples", num_samples)
    if n <= 0:
        raise ValueError(f"{op}: num_samples must be positive, got {n}")
    k = input._data.shape[-1]
    if not replacement and n > k:
        raise ValueError(f"{op}: cannot draw {n} samples without replacement from {k} "
                         "categories")
    if k == 0:
        raise ValueError(f"{op}: input has no categories (shape {shape_str(input.shape)})")
    p = input._data.reshape(-1, k).astype(np.float64)
    rows = p.shape[0]
    bad = ~np.isfinite(p) | (p < 0)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        where_ = f"row {r}, " if input._data.ndim == 2 else ""
        raise ValueError(f"{op}: weights must be finite and non-negative, got "
                         f"{input._data.reshape(-1, k)[r, c]} at {where_}index {c}")
    total = p.sum(axis=1)
    if (total <= 0).any():
        r = int(np.argmax(total <= 0))
        raise ValueError(f"{op}: the weights of row {r} sum to 0 (no category can be drawn)"
                         if input._data.ndim == 2 else f"{op}: the weights sum to 0 (no category "
                         "can be drawn)")
    if not replacement:
        nonzero = (p > 0).sum(axis=1)
        if (nonzero < n).any():
            r = int(np.argmax(nonzero < n))
            where_ = f"row {r} has" if input._data.ndim == 2 else "the weights have"
            raise ValueError(f"{op}: {where_} only {nonzero[r]} non-zero weight(s), too few to "
                             f"draw {n} samples without replacement")
    gen = _gen(op, generator)
    if replacement:
        # Inverse CDF per row; the rows' CDFs are laid end to end (row r in [r, r + 1]) so
        # that one searchsorted serves them all.
        cdf = np.cumsum(p, axis=1)
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1.0
        offs = np.arange(rows, dtype=np.float64)[:, None]
        u = gen.random((rows, n))
        idx = np.searchsorted((cdf + offs).ravel(), (u + offs).ravel(), side="right")
        idx = idx.reshape(rows, n) - np.arange(rows)[:, None] * k
        # Rounding of r + u up to r + 1 must not reach past the last drawable category.
        last = k - 1 - np.argmax(p[:, ::-1] > 0, axis=1)
        out = np.minimum(idx, last[:, None])
    else:
        # Sampling without replacement in draw order = sorting w / E with E ~ Exp(1)
        # (equivalently the Gumbel-top-k trick); zero weights get key 0 and never win.
        keys = p / gen.exponential(size=p.shape)
        if n < k:
            part = np.argpartition(-keys, n - 1, axis=1)[:, :n]
            order = np.argsort(-np.take_along_axis(keys, part, 1), axis=1, kind="stable")
            out = np.take_along_axis(part, order, 1)
        else:
            out = np.argsort(-keys, axis=1, kind="stable")
    out = out.astype(np.int64)
    return _result(out if input._data.ndim == 2 else out.reshape(n))


def _check_probs(op: str, probs: np.ndarray) -> None:
    if probs.size and not ((probs >= 0) & (probs <= 1)).all():  # NaN fails both
        bad = probs[~((probs >= 0) & (probs <= 1))].flat[0]
        raise ValueError(f"{op}: probabilities must be in [0, 1], got {bad}")


def bernoulli(input: Any, p: Any = None, *, generator: Any = None) -> Any:  # noqa: A002
    """0/1 draws, 1 with probability ``input`` (elementwise), or with the number ``p``
    for every element of ``input``'s shape. The result has ``input``'s dtype."""
    op = "bernoulli"
    check_tensor(op, "input", input)
    if input._data.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point tensor, got dtype {input.dtype}")
    if p is None:
        probs = input._data
        _check_probs(op, probs)
    else:
        probs = _number(op, "p", p)
        if not 0 <= probs <= 1:
            raise ValueError(f"{op}: p must be in [0, 1], got {p}")
    gen = _gen(op, generator)
    return _result((gen.random(input._data.shape) < probs).astype(input._data.dtype))


def normal(mean: Any, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           dtype: Any = None, requires_grad: bool = False) -> Any:
    """Normal draws: ``normal(mean_tensor, std_tensor)`` (broadcast), ``normal(mean_tensor,
    std=1.0)``, ``normal(mean, std_tensor)``, or ``normal(mean, std, size)`` for numbers."""
    op = "normal"
    from .tensor import Tensor, _DEFAULT_FLOAT, as_dtype
    from ._checks import broadcast_shape
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        m, s = _number(op, "mean", mean), _number(op, "std", std)
        if size is None:
            raise TypeError(f"{op}: size is required when mean and std are numbers")
        from .creation import _shape
        shape = _shape(op, (size,) if isinstance(size, (int, np.integer)) else tuple(size))
        dt = _DEFAULT_FLOAT if dtype is None else as_dtype(dtype, op)
        if dt.kind != "f":
            raise TypeError(f"{op}: dtype must be floating point, got {dt}")
        if not s >= 0:
            raise ValueError(f"{op}: std must be >= 0, got {s}")
        gen = _gen(op, generator)
        out = _result((m + s * gen.standard_normal(shape)).astype(dt))
        return out.requires_grad_(True) if requires_grad else out
    if size is not None or dtype is not None or requires_grad:
        raise TypeError(f"{op}: size, dtype and requires_grad are only taken when mean and std "
                        "are numbers (the tensors give the shape and dtype)")
    for name, v, is_t in (("mean", mean, mt), ("std", std, st)):
        if is_t and v._data.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be a floating-point tensor, got dtype {v.dtype}")
        if not is_t:
            _number(op, name, v)
    m = mean._data if mt else float(mean)
    s = std._data if st else float(std)
    if st:
        if std._data.size and not (std._data >= 0).all():
            raise ValueError(f"{op}: all elements of std must be >= 0, got "
                             f"{std._data[~(std._data >= 0)].flat[0]}")
    elif not s >= 0:
        raise ValueError(f"{op}: std must be >= 0, got {s}")
    if mt and st:
        shape = broadcast_shape(op, mean._data.shape, std._data.shape)
        from .ops.broadcast import result_dtype
        dt = result_dtype(mean._data.dtype, std._data.dtype)
    else:
        shape = (mean if mt else std)._data.shape
        dt = (mean if mt else std)._data.dtype
    gen = _gen(op, generator)
    return _result((m + s * gen.standard_normal(shape)).astype(dt))


# -- in-place initialisers (Tensor methods) ---------------------------------------------
def _check_inplace(op: str, t: Any, floating: bool = True) -> None:
    """The checks of an in-place write, done before drawing: a leaf that requires grad
    is refused (as PyTorch's in-place ops; nn.init wraps these in no_grad), and so are
    read-only memory and views taking part in autograd."""
    from . import autograd as ag
    from ._checks import check_view_write
    if floating and t._data.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point tensor, got dtype {t.dtype}")
    if ag.is_grad_enabled() and t.requires_grad and t.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be modified in place "
                           "(use `with tl.no_grad():`)")
    check_view_write(op, t)


def _write(op: str, t: Any, values: np.ndarray) -> Any:
    from . import autograd as ag
    if ag.is_grad_enabled() and t.requires_grad:
        # A non-leaf in a graph: recorded, so the values it had get a zero gradient.
        from .ops import setitem
        setitem(t, Ellipsis, _result(values.astype(t._data.dtype, copy=False)), op)
        return t
    t._data[...] = values
    t._version[0] += 1
    return t


def _bounds_fit(op: str, name: str, value: float, dt: np.dtype) -> None:
    top = float(np.finfo(dt).max)
    if not -top <= value <= top:  # also refuses NaN
        raise ValueError(f"{op}: {name}={value} is out of bounds for {dt}")


def uniform_(self: Any, *args: Any, **kwargs: Any) -> Any:
    """Fill with draws uniform on [from, to): ``x.uniform_(from=0, to=1)`` (``from`` is a
    Python keyword, so it is given by position or as ``**{'from': a}``)."""
    op = "uniform_"
    bounds = _bind(op, args, kwargs, ("from", "to"), (0.0, 1.0))
    lo, hi = (_number(op, n, v) for n, v in zip(("from", "to"), bounds))
    _check_inplace(op, self)
    dt = self._data.dtype
    _bounds_fit(op, "from", lo, dt)
    _bounds_fit(op, "to", hi, dt)
    if lo > hi:
        raise ValueError(f"{op}: expects a [from, to) range, but got from={lo} > to={hi}")
    u = _state["gen"].random(self._data.shape)
    vals = (lo + (hi - lo) * u).astype(dt)
    if lo < hi:
        # The rounding to float32 may land on `to` itself: keep the range half-open.
        vals = np.minimum(vals, np.nextafter(dt.type(hi), dt.type(lo)))
    return _write(op, self, vals)


def normal_(self: Any, mean: Any = 0.0, std: Any = 1.0, *, generator: Any = None) -> Any:
    op = "normal_"
    m, s = _number(op, "mean", mean), _number(op, "std", std)
    if not s >= 0:
        raise ValueError(f"{op}: std must be >= 0, got {s}")
    _check_inplace(op, self)
    gen = _gen(op, generator)
    return _write(op, self, (m + s * gen.standard_normal(self._data.shape)).astype(self._data.dtype))


def bernoulli_(self: Any, p: Any = 0.5, *, generator: Any = None) -> Any:
    """Fill with 0/1 draws, 1 with probability ``p`` (a number, or a float tensor that
    broadcasts to this tensor's shape). Any dtype, as PyTorch."""
    op = "bernoulli_"
    from .tensor import Tensor
    if isinstance(p, Tensor):
        if p._data.dtype.kind != "f":
            raise TypeError(f"{op}: p must be a floating-point tensor, got dtype {p.dtype}")
        from ._checks import shape_str
        try:
            probs = np.broadcast_to(p._data, self._data.shape)
        except ValueError:
            raise ValueError(f"{op}: p of shape {shape_str(p.shape)} does not broadcast to the "
                             f"tensor's shape {shape_str(self.shape)}") from None
        _check_probs(op, probs)
    else:
        probs = _number(op, "p", p)
        if not 0 <= probs <= 1:
            raise ValueError(f"{op}: p must be in [0, 1], got {p}")
    _check_inplace(op, self, floating=False)
    gen = _gen(op, generator)
    return _write(op, self, gen.random(self._data.shape) < probs)


def exponential_(self: Any, lambd: Any = 1.0, *, generator: Any = None) -> Any:
    op = "exponential_"
    rate = _number(op, "lambd", lambd)
    if not rate > 0:
        raise ValueError(f"{op}: lambd must be > 0, got {rate}")
    _check_inplace(op, self)
    gen = _gen(op, generator)
    return _write(op, self, gen.exponential(1.0 / rate, self._data.shape))


def random_(self: Any, *args: Any, **kwargs: Any) -> Any:
    """Fill with integers uniform on [from, to - 1]: ``random_()``, ``random_(to)``,
    ``random_(from, to)``. Without ``to`` the range is the dtype's: [0, 2^mantissa] for
    floats (every integer exactly representable), [0, max] for integers, {0, 1} for bool."""
    op = "random_"
    from ._checks import is_int
    if len(args) == 1 and not kwargs:
        lo, hi = 0, args[0]
    else:
        lo, hi = _bind(op, args, kwargs, ("from", "to"), (0, None))
    for name, v in (("from", lo), ("to", hi)):
        if v is not None and not is_int(v):
            raise TypeError(f"{op}: {name} must be an int, got {type(v).__name__} {v!r:.40}")
    _check_inplace(op, self, floating=False)
    dt = self._data.dtype
    if dt.kind == "f":
        top = 2 ** (np.finfo(dt).nmant + 1)
        dmin, dmax = -top, top
    elif dt.kind == "b":
        dmin, dmax = 0, 1
    else:
        dmin, dmax = int(np.iinfo(dt).min), int(np.iinfo(dt).max)
    lo = int(lo)
    last = dmax if hi is None else int(hi) - 1
    if last < lo:
        raise ValueError(f"{op}: expects 'from' to be less than 'to', got from={lo} >= to={hi}")
    if lo < dmin or last > dmax:
        raise ValueError(f"{op}: the range [{lo}, {last}] does not fit dtype {dt} "
                         f"([{dmin}, {dmax}])")
    vals = _state["gen"].integers(lo, last, size=self._data.shape, endpoint=True,
                                  dtype=np.int64 if dt.kind != "u" else np.uint64)
    return _write(op, self, vals)


def _bind(op: str, args: tuple, kwargs: dict, names: tuple, defaults: tuple) -> tuple:
    """Positional and keyword arguments of ``names`` (``from`` cannot be a parameter)."""
    if len(args) > len(names):
        raise TypeError(f"{op}: takes at most {len(names)} arguments ({', '.join(names)}), got "
                        f"{len(args)}")
    vals = dict(zip(names, defaults))
    vals.update(zip(names, args))
    for k, v in kwargs.items():
        if k not in names:
            raise TypeError(f"{op}: unexpected keyword argument {k!r}")
        if names.index(k) < len(args):
            raise TypeError(f"{op}: got multiple values for argument {k!r}")
        vals[k] = v
    return tuple(vals[n] for n in names)
