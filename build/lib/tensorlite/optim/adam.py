"""Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), PyTorch's formulation."""
from __future__ import annotations

import math
import numbers
from typing import Optional

import numpy as np

from ..kernels.update import adam_
from .optimizer import Optimizer, ParamsT, _check_impl_flags, _check_number


class Adam(Optimizer):
    """Per step t, with g the gradient (negated with ``maximize``):

        w <- w * (1 - lr * weight_decay)   if decoupled_weight_decay (AdamW)
        g <- g + weight_decay * w          otherwise (L2 penalty)
        m <- b1 * m + (1 - b1) * g
        v <- b2 * v + (1 - b2) * g^2
        v_max <- max(v_max, v); use v_max for v     (amsgrad)
        w <- w - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v), and
    ``max_exp_avg_sq`` with amsgrad.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False, foreach: Optional[bool] = None,
                 fused: Optional[bool] = None) -> None:
        _check_impl_flags(type(self).__name__, foreach=foreach, fused=fused)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _check_group(self, group):
        super()._check_group(group)
        _check_number(self, group, "eps", "epsilon value")
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{type(self).__name__}: betas must be a pair (beta1, beta2), "
                             f"got {betas!r}")
        group["betas"] = tuple(betas)
        for i, b in enumerate(betas):
            if isinstance(b, bool) or not isinstance(b, numbers.Real):
                raise TypeError(f"{type(self).__name__}: beta parameter at index {i} must be "
                                f"a real number, got {b!r}")
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{type(self).__name__}: invalid beta parameter at index {i}: "
                                 f"{b} (must be in [0, 1))")

    def _step_group(self, group, items):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        b1, b2 = (float(b) for b in group["betas"])
        amsgrad, maximize = group["amsgrad"], group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        state = self.state
        for p, w, g in items:
            st = state[p]
            m = st.get("exp_avg")
            if m is None:  # first step: allocate the moments once
                st["step"] = 0
                m = st["exp_avg"] = np.zeros_like(w, order="C")
                st["exp_avg_sq"] = np.zeros_like(w, order="C")
            v = st["exp_avg_sq"]
            t = st["step"] = st["step"] + 1
            vmax = None
            if amsgrad:
                vmax = st.get("max_exp_avg_sq")
                if vmax is None:
                    vmax = st["max_exp_avg_sq"] = np.zeros_like(w, order="C")
            # The fused kernel does exactly the numpy steps below in one pass (large,
            # contiguous, same-dtype arrays); it declines anything else.
            if adam_(w, g, m, v, vmax, b1=b1, b2=b2, step_size=lr / (1.0 - b1 ** t),
                     bias2_sqrt=math.sqrt(1.0 - b2 ** t), eps=eps,
                     l2=0.0 if decoupled else wd, decay=1.0 - lr * wd if decoupled else 1.0,
                     maximize=maximize):
                continue
            # the one scratch array of this update (an array even for 0-d parameters, where
            # ufuncs without out= would return numpy scalars)
            tmp = np.empty_like(w)
            if maximize:
                g = np.negative(g)
            if wd:
                if decoupled:
                    w *= 1.0 - lr * wd
                else:
                    g = np.multiply(w, wd) + g
            np.multiply(g, 1.0 - b1, out=tmp)
            m *= b1
            m += tmp
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - b2
            v *= b2
            v += tmp
            if amsgrad:
                np.maximum(vmax, v, out=vmax)
                v = vmax
            # denominator sqrt(v) / sqrt(1 - b2^t) + eps, then w -= lr / (1 - b1^t) * m / denom
            np.sqrt(v, out=tmp)
            tmp /= math.sqrt(1.0 - b2 ** t)
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= -lr / (1.0 - b1 ** t)
            w += tmp


class AdamW(Adam):
    """Adam with decoupled weight decay: w <- w * (1 - lr * weight_decay) before the Adam
    update (instead of adding weight_decay * w to the gradient)."""

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: Optional[bool] = None,
                 fused: Optional[bool] = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, foreach=foreach, fused=fused)
