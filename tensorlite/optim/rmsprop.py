"""RMSprop (Hinton's lecture 6e), PyTorch's formulation."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class RMSprop(Optimizer):
    """v <- a*v + (1-a)*g^2; (centered: avg <- a*avg + (1-a)*g, v_hat = v - avg^2);
    step = g / (sqrt(v_hat) + eps), with momentum b <- mu*b + step; w <- w - lr*step."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 maximize: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _validate(self, group):
        super()._validate(group)
        if not 0.0 <= group["alpha"]:
            raise ValueError(f"RMSprop: invalid alpha {group['alpha']}")
        if group["momentum"] < 0:
            raise ValueError(f"RMSprop: invalid momentum {group['momentum']}")

    def _update(self, w, g, state, group):
        lr, a, eps, wd, mu = (group["lr"], group["alpha"], group["eps"], group["weight_decay"],
                              group["momentum"])
        if group["maximize"]:
            g = -g
        if wd:
            g = g + wd * w
        if "step" not in state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(w)
            if mu > 0:
                state["momentum_buffer"] = np.zeros_like(w)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(w)
        state["step"] += 1
        v = state["square_avg"]
        v *= a
        v += (1 - a) * (g * g)
        if group["centered"]:
            avg = state["grad_avg"]
            avg *= a
            avg += (1 - a) * g
            denom = np.sqrt(v - avg * avg) + eps
        else:
            denom = np.sqrt(v) + eps
        if mu > 0:
            buf = state["momentum_buffer"]
            buf *= mu
            buf += g / denom
            w -= w.dtype.type(lr) * buf
        else:
            w -= w.dtype.type(lr) * (g / denom)
