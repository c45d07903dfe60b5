"""Adadelta (Zeiler, 2012), PyTorch's formulation."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .optimizer import Optimizer, ParamsT, _check_impl_flags, _check_number


class Adadelta(Optimizer):
    """Per step, with g the gradient (negated with ``maximize``):

        g <- g + weight_decay * w
        v <- rho * v + (1 - rho) * g^2
        u = sqrt(a + eps) / sqrt(v + eps) * g
        a <- rho * a + (1 - rho) * u^2
        w <- w - lr * u

    State per parameter: ``step``, ``square_avg`` (v) and ``acc_delta`` (a).
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, foreach: Optional[bool] = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_impl_flags("Adadelta", foreach=foreach)
        if differentiable:
            raise ValueError("Adadelta: differentiable=True is not supported by tensorlite")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _check_group(self, group):
        super()._check_group(group)
        _check_number(self, group, "rho", "rho value")
        if group["rho"] > 1:
            raise ValueError(f"Adadelta: invalid rho value {group['rho']}")
        _check_number(self, group, "eps", "epsilon value")

    def _step_group(self, group, items):
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        wd = float(group["weight_decay"])
        for p, w, g in items:
            st = self.state[p]
            v = st.get("square_avg")
            if v is None:
                st["step"] = 0
                v = st["square_avg"] = np.zeros_like(w, order="C")
                st["acc_delta"] = np.zeros_like(w, order="C")
            a = st["acc_delta"]
            st["step"] += 1
            if group["maximize"]:
                g = np.negative(g)
            if wd:
                g = np.multiply(w, wd) + g
            v *= rho
            v += (1 - rho) * (g * g)
            u = np.sqrt(a + eps) / np.sqrt(v + eps) * g
            a *= rho
            a += (1 - rho) * (u * u)
            w -= lr * u
