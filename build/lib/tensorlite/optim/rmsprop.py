"""RMSprop (Hinton, Neural Networks for Machine Learning, lecture 6e), PyTorch's formulation."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .optimizer import Optimizer, ParamsT, _check_impl_flags, _check_number


class RMSprop(Optimizer):
    """Per step, with g the gradient (negated with ``maximize``):

        g <- g + weight_decay * w
        v <- alpha * v + (1 - alpha) * g^2
        centered:  a <- alpha * a + (1 - alpha) * g;  d = sqrt(v - a^2) + eps
        otherwise: d = sqrt(v) + eps
        momentum > 0: b <- momentum * b + g / d;  w <- w - lr * b
        otherwise:    w <- w - lr * g / d

    State per parameter: ``step``, ``square_avg`` (v), ``momentum_buffer`` (with
    momentum) and ``grad_avg`` (a, when centered).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False, foreach: Optional[bool] = None) -> None:
        _check_impl_flags("RMSprop", foreach=foreach)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _check_group(self, group):
        super()._check_group(group)
        _check_number(self, group, "alpha", "alpha value")
        _check_number(self, group, "eps", "epsilon value")
        _check_number(self, group, "momentum", "momentum value")

    def _step_group(self, group, items):
        lr, a, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        wd, mu = float(group["weight_decay"]), float(group["momentum"])
        centered, maximize = group["centered"], group["maximize"]
        state = self.state
        for p, w, g in items:
            st = state[p]
            v = st.get("square_avg")
            if v is None:  # first step: allocate the running averages once
                st["step"] = 0
                v = st["square_avg"] = np.zeros_like(w, order="C")
            st["step"] += 1
            tmp = np.empty_like(w)  # the one scratch array (an array even for 0-d parameters)
            if maximize:
                g = np.negative(g)
            if wd:
                g = np.multiply(w, wd) + g
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - a
            v *= a
            v += tmp
            if centered:
                ga = st.get("grad_avg")
                if ga is None:
                    ga = st["grad_avg"] = np.zeros_like(w, order="C")
                np.multiply(g, 1.0 - a, out=tmp)
                ga *= a
                ga += tmp
                np.multiply(ga, ga, out=tmp)
                np.subtract(v, tmp, out=tmp)
                np.sqrt(tmp, out=tmp)
            else:
                np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(g, tmp, out=tmp)  # g / d
            if mu > 0:
                buf = st.get("momentum_buffer")
                if buf is None:
                    buf = st["momentum_buffer"] = np.zeros_like(w, order="C")
                buf *= mu
                buf += tmp
                np.multiply(buf, -lr, out=tmp)
            else:
                tmp *= -lr
            w += tmp
