"""L-BFGS (Nocedal, 1980; Nocedal & Wright, Numerical Optimization, algorithms 7.4 and
7.5 for the two-loop recursion, 3.5/3.6 for the strong Wolfe line search), with PyTorch's
iteration rules, so that a run takes PyTorch's steps.

All parameters are handled as one flat vector (they must be in a single parameter group).
``step(closure)`` needs the closure: L-BFGS re-evaluates the loss and gradient several
times per step.
"""
from __future__ import annotations

import math
from typing import Any, Callable, List, Optional, Tuple

import numpy as np

from .optimizer import Optimizer, ParamsT, _check_number


def _cubic_minimum(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                   bounds: Optional[Tuple[float, float]] = None) -> float:
    """Minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clipped to
    ``bounds`` (default: the interval between x1 and x2); the midpoint when the cubic has
    no minimum (Nocedal & Wright eq. 3.59)."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(disc)
    if x1 <= x2:
        xmin = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        xmin = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(xmin, lo), hi)


def _strong_wolfe(evaluate: Callable[[float], Tuple[float, np.ndarray]], t: float,
                  d: np.ndarray, f: float, g: np.ndarray, gtd: float, c1: float = 1e-4,
                  c2: float = 0.9, tolerance_change: float = 1e-9,
                  max_ls: int = 25) -> Tuple[float, np.ndarray, float, int]:
    """A step length t along d satisfying the strong Wolfe conditions: bracketing, then
    zooming by cubic interpolation. ``evaluate(t)`` is (loss, flat gradient) at x + t d.
    Returns (loss, gradient, t, number of evaluations)."""
    d_norm = float(np.abs(d).max())
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    it = 0
    # Bracketing: grow t until the interval [t_prev, t] holds an acceptable step.
    while it < max_ls:
        if f_new > f + c1 * t * gtd or (it > 1 and f_new >= f_prev):
            br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], \
                [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            br, br_f, br_g, br_gtd = [t], [f_new], [g_new], [gtd_new]
            done = True
            break
        if gtd_new >= 0:
            br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], \
                [gtd_prev, gtd_new]
            break
        lo, hi = t + 0.01 * (t - t_prev), t * 10
        t_next = _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(lo, hi))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        it += 1
    if it == max_ls:
        br, br_f, br_g, br_gtd = [0.0, t], [f, f_new], [g, g_new], [gtd, gtd_new]
    # Zoom: shrink the bracket around an acceptable step.
    insufficient = False
    low, high = (0, 1) if br_f[0] <= br_f[-1] else (1, 0)
    while not done and it < max_ls:
        if abs(br[1] - br[0]) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(br[0], br_f[0], br_gtd[0], br[1], br_f[1], br_gtd[1])
        # Keep away from the bracket's ends: a step within 10% of an end twice in a row
        # (or outside it) is moved to 10% inside.
        b_lo, b_hi = min(br), max(br)
        eps = 0.1 * (b_hi - b_lo)
        if min(b_hi - t, t - b_lo) < eps:
            if insufficient or t >= b_hi or t <= b_lo:
                t = b_hi - eps if abs(t - b_hi) < abs(t - b_lo) else b_lo + eps
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        it += 1
        if f_new > f + c1 * t * gtd or f_new >= br_f[low]:
            br[high], br_f[high], br_g[high], br_gtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if br_f[0] <= br_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (br[high] - br[low]) >= 0:
                br[high], br_f[high], br_g[high], br_gtd[high] = \
                    br[low], br_f[low], br_g[low], br_gtd[low]
            br[low], br_f[low], br_g[low], br_gtd[low] = t, f_new, g_new, gtd_new
    return br_f[low], br_g[low], br[low], evals


class LBFGS(Optimizer):
    """Limited-memory BFGS. Per step: up to ``max_iter`` iterations (``max_eval`` closure
    calls, default ``max_iter * 5 // 4``), each a quasi-Newton direction from the last
    ``history_size`` curvature pairs (two-loop recursion), then either a fixed step
    ``lr`` (the first iteration ever: ``min(1, 1/|g|_1) * lr``) or, with
    ``line_search_fn="strong_wolfe"``, a step satisfying the strong Wolfe conditions.
    Stops early when the largest gradient entry is below ``tolerance_grad`` or the step
    or loss change is below ``tolerance_change``.

    ``step(closure)`` returns the loss of the first closure call, as PyTorch's."""

    def __init__(self, params: ParamsT, lr: float = 1.0, max_iter: int = 20,
                 max_eval: Optional[int] = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: Optional[str] = None) -> None:
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _check_group(self, group):
        _check_number(self, group, "lr", "learning rate")   # (no weight_decay here)
        for key in ("max_iter", "max_eval", "history_size"):
            v = group[key]
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"LBFGS: {key} must be a positive integer, got {v!r}")

    # -- the parameters as one flat vector ----------------------------------------------
    def _flat_grad(self) -> np.ndarray:
        parts = [np.zeros(p._data.size, p._data.dtype) if p.grad is None
                 else p.grad._data.reshape(-1) for p in self._params]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _add(self, t: float, d: np.ndarray) -> None:
        i = 0
        for p in self._params:
            n = p._data.size
            p._data += (t * d[i:i + n]).reshape(p._data.shape).astype(p._data.dtype,
                                                                         copy=False)
            p._version[0] += 1
            i += n

    def _set(self, values: List[np.ndarray]) -> None:
        for p, v in zip(self._params, values):
            p._data[...] = v
            p._version[0] += 1

    def _evaluate(self, closure: Callable[[], Any]) -> float:
        from ..autograd import enable_grad
        with enable_grad():
            return float(closure())

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:  # noqa: C901
        if closure is None:
            raise RuntimeError("LBFGS.step: needs a closure that re-evaluates the model and "
                               "returns the loss (optimizer.step(closure))")
        from ..autograd import enable_grad
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history = group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if np.abs(g).max(initial=0.0) <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        dirs, steps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag = state.get("H_diag")
        g_prev, loss_prev = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -g
                dirs, steps, ro, h_diag = [], [], [], 1.0
            else:
                # curvature pair (y, s) from the last step, kept when y.s > 1e-10
                y = g - g_prev
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:
                    if len(dirs) == history:
                        dirs.pop(0), steps.pop(0), ro.pop(0)
                    dirs.append(y), steps.append(s), ro.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                # two-loop recursion: d = -H g, H the L-BFGS inverse-Hessian estimate
                q = -g
                alpha = [0.0] * len(dirs)
                for i in range(len(dirs) - 1, -1, -1):
                    alpha[i] = float(steps[i] @ q) * ro[i]
                    q = q - alpha[i] * dirs[i]
                r = q * h_diag
                for i in range(len(dirs)):
                    beta = float(dirs[i] @ r) * ro[i]
                    r = r + (alpha[i] - beta) * steps[i]
                d = r
            g_prev = g.copy()
            loss_prev = loss
            t = min(1.0, 1.0 / float(np.abs(g).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(g @ d)
            if gtd > -tol_change:      # not a descent direction
                break
            ls_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                x0 = [p._data.copy() for p in self._params]

                def along(step: float) -> Tuple[float, np.ndarray]:
                    self._add(step, d)
                    f_t = self._evaluate(closure)
                    g_t = self._flat_grad()
                    self._set(x0)
                    return f_t, g_t
                loss, g, t, ls_evals = _strong_wolfe(along, t, d, loss, g, gtd,
                                                     tolerance_change=tol_change)
                self._add(t, d)
                small_grad = np.abs(g).max() <= tol_grad
            else:
                self._add(t, d)
                small_grad = False
                if n_iter != max_iter:
                    loss = self._evaluate(closure)
                    g = self._flat_grad()
                    small_grad = np.abs(g).max() <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            if n_iter == max_iter or evals >= max_eval or small_grad:
                break
            if np.abs(d * t).max() <= tol_change or abs(loss - loss_prev) < tol_change:
                break

        state.update(d=d, t=t, old_dirs=dirs, old_stps=steps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=g_prev, prev_loss=loss_prev)
        return orig_loss
