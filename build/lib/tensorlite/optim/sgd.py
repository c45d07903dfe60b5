"""Stochastic gradient descent with momentum, PyTorch's formulation."""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..kernels.update import axpy_
from .optimizer import Optimizer, ParamsT, _check_impl_flags, _check_number


class SGD(Optimizer):
    """Per step, with g the gradient (negated with ``maximize``):

        g <- g + weight_decay * w                          (L2 penalty)
        b <- g at the first step, else momentum * b + (1 - dampening) * g
        g <- g + momentum * b  (nesterov)  or  b           (only when momentum != 0)
        w <- w - lr * g

    State per parameter: ``momentum_buffer`` (only with momentum).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False, foreach: Optional[bool] = None,
                 fused: Optional[bool] = None) -> None:
        _check_impl_flags("SGD", foreach=foreach, fused=fused)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _check_group(self, group):
        super()._check_group(group)
        _check_number(self, group, "momentum", "momentum")
        _check_number(self, group, "dampening", "dampening", low=-np.inf)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov momentum requires a momentum > 0 and zero dampening "
                             f"(got momentum={group['momentum']}, "
                             f"dampening={group['dampening']})")

    def _step_group(self, group, items):
        neg_lr = -float(group["lr"])
        mu, wd = float(group["momentum"]), float(group["weight_decay"])
        keep = 1.0 - float(group["dampening"])
        nesterov, maximize = group["nesterov"], group["maximize"]
        state = self.state
        for p, w, g in items:
            if maximize:
                g = np.negative(g)
            if wd:
                t = np.multiply(w, wd)
                t += g
                g = t
            if mu:
                st = state[p]
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = np.array(g, dtype=w.dtype, order="C")
                else:
                    buf *= mu
                    if keep == 1.0:
                        buf += g
                    else:
                        buf += np.multiply(g, keep)
                if nesterov:
                    t = np.multiply(buf, mu)
                    t += g
                    g = t
                else:
                    g = buf
            # w <- w - lr * g
            axpy_(w, neg_lr, g)
