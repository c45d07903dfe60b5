"""Recurrent layers: RNN, LSTM, GRU (stacked, bidirectional) and their single-step cells.

Parameter names, shapes, gate order, initialisation (uniform(-1/sqrt(H), 1/sqrt(H))) and
return values are PyTorch's, so a PyTorch state dict loads by name. The layers run each
layer-direction's whole sequence in one fused kernel call (tensorlite/ops/rnn.py), except
an LSTM with ``proj_size``, which steps through time with ordinary ops; the cells are
written with ordinary ops, one time step per call, as on the lecture's slides.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Optional, Tuple

import numpy as np

import tensorlite as tl
from tensorlite import Tensor
from tensorlite.ops import rnn as R
from tensorlite.ops.dropout import dropout

from .layers import _dtype
from .module import Module, Parameter

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _check_flags(name: str, **flags: Any) -> None:
    """bias, batch_first, bidirectional: real bools, so that arguments given positionally in
    the wrong order fail here instead of building a different model."""
    for arg, v in flags.items():
        if not isinstance(v, (bool, np.bool_)):
            raise TypeError(f"{name}: {arg} must be a bool, got {v!r}")


def _describe(hx: Any) -> str:
    if isinstance(hx, (tuple, list)):
        return f"{type(hx).__name__} of ({', '.join(type(h).__name__ for h in hx)})"
    return type(hx).__name__


class RNNBase(Module):
    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None, proj_size: int = 0) -> None:
        super().__init__()
        name = type(self).__name__
        for arg, v in (("input_size", input_size), ("hidden_size", hidden_size),
                       ("num_layers", num_layers)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{name}: {arg} must be a positive int, got {v!r}")
        _check_flags(name, bias=bias, batch_first=batch_first, bidirectional=bidirectional)
        if (isinstance(dropout, bool) or not isinstance(dropout, (int, float))
                or not 0.0 <= dropout <= 1.0):
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"{name}: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(f"{name}: proj_size must be an int >= 0 (0 disables the "
                             f"projection), got {proj_size!r}")
        if proj_size and self.mode != "LSTM":
            raise ValueError(f"{name}: proj_size is only supported by LSTM")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) must be smaller than hidden_size "
                             f"({hidden_size})")
        if dropout > 0 and num_layers == 1:
            # as PyTorch: dropout only acts between layers, so here it would do nothing
            warnings.warn(f"{name}: dropout={dropout} has no effect with num_layers=1 (dropout "
                          "is applied to the outputs of every layer but the last)",
                          UserWarning, stacklevel=3)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.bidirectional, self.nonlinearity = bool(bidirectional), nonlinearity
        self.proj_size = proj_size
        dtype = _dtype(dtype, device)
        gates = _GATES[self.mode] * hidden_size
        dirs = 2 if bidirectional else 1
        out_size = proj_size or hidden_size  # the size of h (c stays hidden_size)
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else out_size * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                setattr(self, "weight_ih" + sfx, Parameter(tl.empty(gates, layer_in, dtype=dtype)))
                setattr(self, "weight_hh" + sfx, Parameter(tl.empty(gates, out_size,
                                                                     dtype=dtype)))
                if bias:
                    setattr(self, "bias_ih" + sfx, Parameter(tl.empty(gates, dtype=dtype)))
                    setattr(self, "bias_hh" + sfx, Parameter(tl.empty(gates, dtype=dtype)))
                if proj_size:
                    setattr(self, "weight_hr" + sfx, Parameter(tl.empty(proj_size, hidden_size,
                                                                         dtype=dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        from .init import uniform_
        for p in self.parameters():
            uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        # PyTorch's RNN repr leaves the nonlinearity out (its cells show it); so does ours.
        for k, default in (("bias", True), ("batch_first", False), ("dropout", 0.0),
                           ("bidirectional", False)):
            if getattr(self, k) != default:
                s += f", {k}={getattr(self, k)}"
        return s

    def flatten_parameters(self) -> None:
        """A no-op kept for PyTorch code: the weights need no compacting here (PyTorch's
        version repacks them into one buffer for cuDNN)."""

    @property
    def all_weights(self) -> list:
        """[[weight_ih, weight_hh(, bias_ih, bias_hh)(, weight_hr)] per layer and direction],
        PyTorch's order (layer 0 forward, layer 0 reverse, layer 1 forward, ...)."""
        dirs = 2 if self.bidirectional else 1
        return [[p for p in self._params(layer, d) + (self._proj(layer, d),) if p is not None]
                for layer in range(self.num_layers) for d in range(dirs)]

    def _proj(self, layer: int, d: int) -> Optional[Tensor]:
        return getattr(self, f"weight_hr_l{layer}" + ("_reverse" if d else ""), None)

    def _params(self, layer: int, d: int) -> tuple:
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = lambda n: getattr(self, n + sfx, None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _check_input(self, x: Tensor, hx: Any) -> Tuple[Tensor, bool]:
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: input must be a Tensor")
        if x.ndim not in (2, 3):
            raise ValueError(f"{name}: expected a 2-D (unbatched) or 3-D input, got shape "
                             f"{tuple(x.shape)}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {x.shape[-1]} features but input_size is "
                             f"{self.input_size} (input shape {tuple(x.shape)})")
        if x.dtype != self.weight_ih_l0.dtype:
            raise TypeError(f"{name}: input dtype {x.dtype} does not match the parameters' "
                            f"{self.weight_ih_l0.dtype}")
        seq_dim = 1 if self.batch_first and x.ndim == 3 else 0
        if x.shape[seq_dim] == 0:
            # as PyTorch: there is no last hidden state of an empty sequence
            raise ValueError(f"{name}: expected a sequence length larger than 0, got input of "
                             f"shape {tuple(x.shape)}")
        return x, x.ndim == 2

    def _initial(self, hx: Optional[Tensor], batch: int, dtype: Any, unbatched: bool,
                 what: str) -> Tensor:
        dirs = 2 if self.bidirectional else 1
        size = self.hidden_size if what == "c_0" else (self.proj_size or self.hidden_size)
        want = (self.num_layers * dirs, batch, size)
        if hx is None:
            return tl.zeros(*want, dtype=dtype)
        name = type(self).__name__
        if not isinstance(hx, Tensor):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(hx).__name__}")
        if hx.dtype != dtype:
            # the fused kernels write into arrays of the input's dtype: a mismatch would fail
            # inside them
            raise TypeError(f"{name}: {what} has dtype {hx.dtype} but the input and parameters "
                            f"are {dtype}")
        if unbatched:
            if hx.ndim != 2:
                raise ValueError(f"{type(self).__name__}: for unbatched input {what} must be 2-D "
                                 f"{want[:1] + want[2:]}, got {tuple(hx.shape)}")
            hx = hx.unsqueeze(1)
        if tuple(hx.shape) != want:
            raise ValueError(f"{type(self).__name__}: expected {what} of shape {want}, got "
                             f"{tuple(hx.shape)}")
        return hx

    def forward(self, input: Tensor, hx: Any = None) -> Tuple[Tensor, Any]:
        x, unbatched = self._check_input(input, hx)
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        batch = x.shape[1]
        lstm = self.mode == "LSTM"
        if lstm:
            if hx is not None and (not isinstance(hx, tuple) or len(hx) != 2
                                   or hx[0] is None or hx[1] is None):
                # (h_0, None) must not silently mean a zero c_0
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0) of two Tensors (or None), "
                                f"got {_describe(hx)}")
            h0 = self._initial(None if hx is None else hx[0], batch, x.dtype, unbatched, "h_0")
            c0 = self._initial(None if hx is None else hx[1], batch, x.dtype, unbatched, "c_0")
        else:
            h0 = self._initial(hx, batch, x.dtype, unbatched, "hx")
        dirs = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                w_ih, w_hh, b_ih, b_hh = self._params(layer, d)
                if lstm and self.proj_size:
                    out, h, c = _lstm_projected_layer(layer_in, w_ih, w_hh, b_ih, b_hh,
                                                      self._proj(layer, d), h0[k], c0[k],
                                                      reverse=bool(d))
                    c_n.append(c)
                elif lstm:
                    out, h, c = R.lstm_layer(layer_in, w_ih, w_hh, b_ih, b_hh, h0[k], c0[k],
                                             reverse=bool(d))
                    c_n.append(c)
                elif self.mode == "GRU":
                    out, h = R.gru_layer(layer_in, w_ih, w_hh, b_ih, b_hh, h0[k],
                                         reverse=bool(d))
                else:
                    out, h = R.rnn_layer(layer_in, w_ih, w_hh, b_ih, b_hh, h0[k],
                                         self.nonlinearity, reverse=bool(d))
                outs.append(out)
                h_n.append(h)
            layer_in = outs[0] if dirs == 1 else tl.cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = dropout(layer_in, self.dropout, True)
        output = layer_in
        h_n = tl.stack(h_n, 0)
        if unbatched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        if lstm:
            c_n = tl.stack(c_n, 0)
            return output, (h_n, c_n.squeeze(1) if unbatched else c_n)
        return output, h_n


def _lstm_projected_layer(x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Optional[Tensor],
                          b_hh: Optional[Tensor], w_hr: Tensor, h0: Tensor, c0: Tensor,
                          reverse: bool) -> tuple:
    """One direction of an LSTM layer with a projection (PyTorch's proj_size):
    h_t = W_hr (o_t * tanh(c_t)), so h has proj_size units and c hidden_size. Written with
    ops, one step at a time (the fused kernels assume h and c have one size): slower, but
    differentiable to any order. x (T, B, I) -> (outputs (T, B, P), h_n (B, P), c_n (B, H))."""
    t_len, batch, n_in = x.shape
    # all time steps' input projections in one product, as in the fused layers
    xw = (x.reshape(t_len * batch, n_in) @ w_ih.T).reshape(t_len, batch, w_ih.shape[0])
    if b_ih is not None:
        xw = xw + (b_ih + b_hh)
    h, c = h0, c0
    outs: list = [None] * t_len
    for t in (range(t_len - 1, -1, -1) if reverse else range(t_len)):
        i, f, g, o = (xw[t] + h @ w_hh.T).chunk(4, -1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = (o.sigmoid() * c.tanh()) @ w_hr.T
        outs[t] = h
    return tl.stack(outs, 0), h, c


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu).

    The lecture's recurrence h_t = tanh(b + U h_{t-1} + W C(w_t)) with W = weight_ih,
    U = weight_hh, b = b_ih + b_hh, and x_t = C(w_t) the embedding of the t-th word.
    Arguments in PyTorch's order: ``nonlinearity`` comes fourth.
    """

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias=bias,
                         batch_first=batch_first, dropout=dropout, bidirectional=bidirectional,
                         nonlinearity=nonlinearity, device=device, dtype=dtype)


class LSTM(RNNBase):
    """LSTM with PyTorch's gate order (input, forget, cell, output). With ``proj_size`` > 0
    each layer's output h_t = W_hr (o_t * tanh(c_t)) has proj_size units (parameter
    ``weight_hr_l{k}``), h_0 / h_n are (layers * dirs, batch, proj_size) and c stays
    hidden_size, as in PyTorch."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias=bias,
                         batch_first=batch_first, dropout=dropout, bidirectional=bidirectional,
                         device=device, dtype=dtype, proj_size=proj_size)


class GRU(RNNBase):
    """GRU with PyTorch's gate order (reset, update, new)."""

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias=bias,
                         batch_first=batch_first, dropout=dropout, bidirectional=bidirectional,
                         device=device, dtype=dtype)


# ---------------------------------------------------------------------------------------
# Cells: one time step, composed of ops (differentiable to any order)
# ---------------------------------------------------------------------------------------
class _CellBase(Module):
    gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        for arg, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{name}: {arg} must be a positive int, got {v!r}")
        _check_flags(name, bias=bias)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bool(bias)
        dtype = _dtype(dtype, device)
        g = self.gates * hidden_size
        self.weight_ih = Parameter(tl.empty(g, input_size, dtype=dtype))
        self.weight_hh = Parameter(tl.empty(g, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(tl.empty(g, dtype=dtype))
            self.bias_hh = Parameter(tl.empty(g, dtype=dtype))
        else:
            self.bias_ih = self.bias_hh = None
        from .init import uniform_
        bound = 1.0 / math.sqrt(hidden_size)
        for p in self.parameters():
            uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def _check(self, x: Any, hx: Any, n_states: int) -> None:
        """Input (input_size,) or (batch, input_size) of the parameters' dtype; each state
        (hidden_size,) or (batch, hidden_size) to match. Checked here because the ops below
        would otherwise broadcast a wrong shape or promote a wrong dtype silently."""
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(x).__name__}")
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: expected a 1-D or 2-D input, got shape {tuple(x.shape)}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {x.shape[-1]} features but input_size is "
                             f"{self.input_size} (input shape {tuple(x.shape)})")
        if x.dtype != self.weight_ih.dtype:
            raise TypeError(f"{name}: input dtype {x.dtype} does not match the parameters' "
                            f"{self.weight_ih.dtype}")
        if hx is None:
            return
        if n_states == 2:
            if not isinstance(hx, tuple) or len(hx) != 2:
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0), got "
                                f"{type(hx).__name__}")
            states = (("h_0", hx[0]), ("c_0", hx[1]))
        else:
            states = (("hx", hx),)
        want = tuple(x.shape[:-1]) + (self.hidden_size,)
        for what, h in states:
            if not isinstance(h, Tensor):
                raise TypeError(f"{name}: {what} must be a Tensor, got {type(h).__name__}")
            if tuple(h.shape) != want:
                raise ValueError(f"{name}: expected {what} of shape {want} for input of shape "
                                 f"{tuple(x.shape)}, got {tuple(h.shape)}")
            if h.dtype != x.dtype:
                raise TypeError(f"{name}: {what} has dtype {h.dtype}, the input {x.dtype}")

    def _proj(self, x: Tensor, h: Tensor) -> Tuple[Tensor, Tensor]:
        xi = x @ self.weight_ih.T
        hh = h @ self.weight_hh.T
        if self.bias:
            xi, hh = xi + self.bias_ih, hh + self.bias_hh
        return xi, hh

    def _zeros(self, x: Tensor) -> Tensor:
        return tl.zeros(*(x.shape[:-1] + (self.hidden_size,)), dtype=x.dtype)


# PyTorch's public name for the cells' base class (isinstance(m, nn.RNNCellBase)).
RNNCellBase = _CellBase


class RNNCell(_CellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh): the lecture's recurrence, one step."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity}" if self.nonlinearity != "tanh" else "")

    def forward(self, x: Tensor, hx: Optional[Tensor] = None) -> Tensor:
        self._check(x, hx, 1)
        h = self._zeros(x) if hx is None else hx
        xi, hh = self._proj(x, h)
        pre = xi + hh
        return pre.tanh() if self.nonlinearity == "tanh" else pre.relu()


class LSTMCell(_CellBase):
    gates = 4

    def forward(self, x: Tensor, hx: Optional[Tuple[Tensor, Tensor]] = None):
        self._check(x, hx, 2)
        if hx is None:
            hx = (self._zeros(x), self._zeros(x))
        h, c = hx
        xi, hh = self._proj(x, h)
        i, f, g, o = (xi + hh).chunk(4, -1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()  # gates, candidate
        c_new = f * c + i * g                    # cell state: forget some, write some
        return o * c_new.tanh(), c_new           # output gate controls what is exposed


class GRUCell(_CellBase):
    gates = 3

    def forward(self, x: Tensor, hx: Optional[Tensor] = None) -> Tensor:
        self._check(x, hx, 1)
        h = self._zeros(x) if hx is None else hx
        xi, hh = self._proj(x, h)
        xr, xz, xn = xi.chunk(3, -1)
        hr, hz, hn = hh.chunk(3, -1)
        r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        return (1 - z) * n + z * h
