"""Adagrad (Duchi, Hazan & Singer, 2011), PyTorch's formulation."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .optimizer import Optimizer, ParamsT, _check_impl_flags, _check_number


class Adagrad(Optimizer):
    """Per step k = 1, 2, ..., with g the gradient (negated with ``maximize``):

        g <- g + weight_decay * w
        s <- s + g^2                      (s starts at initial_accumulator_value)
        w <- w - lr / (1 + (k - 1) lr_decay) * g / (sqrt(s) + eps)

    State per parameter: ``step`` and ``sum`` (s).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, foreach: Optional[bool] = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: Optional[bool] = None) -> None:
        _check_impl_flags("Adagrad", foreach=foreach, fused=fused)
        if differentiable:
            raise ValueError("Adagrad: differentiable=True is not supported by tensorlite")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _check_group(self, group):
        super()._check_group(group)
        _check_number(self, group, "lr_decay", "lr_decay value")
        _check_number(self, group, "initial_accumulator_value", "initial_accumulator_value")
        _check_number(self, group, "eps", "epsilon value")

    def _step_group(self, group, items):
        lr, decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        wd, init = float(group["weight_decay"]), float(group["initial_accumulator_value"])
        for p, w, g in items:
            st = self.state[p]
            s = st.get("sum")
            if s is None:
                st["step"] = 0
                s = st["sum"] = np.full_like(w, init, order="C")
            st["step"] += 1
            if group["maximize"]:
                g = np.negative(g)
            if wd:
                g = np.multiply(w, wd) + g
            clr = lr / (1 + (st["step"] - 1) * decay)
            s += g * g
            std = np.sqrt(s)
            std += eps
            w -= clr * (g / std)
