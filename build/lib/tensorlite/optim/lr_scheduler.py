"""Learning-rate schedules, PyTorch's semantics: build the schedule after the optimizer
(it sets each group's ``lr`` for epoch 0), call ``optimizer.step()`` during the epoch and
``scheduler.step()`` once after it.

Like PyTorch's, ``StepLR``, ``MultiStepLR``, ``ExponentialLR`` and ``CosineAnnealingLR`` are
*chainable*: each step computes the new ``lr`` from the group's current ``lr`` (not from the
epoch alone), so two schedules on one optimizer compose and a manual change of ``lr`` persists. ``step(epoch)`` (deprecated in
PyTorch) jumps to an epoch using the closed form instead.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from .optimizer import Optimizer


def _check_optimizer(who: str, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{who}: expected a tensorlite Optimizer, got {type(optimizer).__name__}")


def _check_real(who: str, label: str, value: Any, low: float = -math.inf,
                integer: bool = False, strict: bool = False) -> None:
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{who}: {label} must be {'an integer' if integer else 'a real number'}, "
                        f"got {value!r}")
    if not (value > low if strict else value >= low):
        raise ValueError(f"{who}: {label} must be {'>' if strict else '>='} {low}, got {value}")


class LRScheduler:
    """Base class: subclasses compute the next learning rates in :meth:`get_lr` from
    ``last_epoch``, ``base_lrs`` (each group's ``initial_lr``) and the current ``lr``s."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        who = type(self).__name__
        _check_optimizer(who, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{who}: param_groups[{i}] has no 'initial_lr', needed to "
                                   f"resume at last_epoch={last_epoch}; load the optimizer's "
                                   "state dict first")
        self.base_lrs: List[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True  # get_lr must leave the lrs alone on the construction step
        self.step()
        self._is_initial = False

    def get_lr(self) -> List[float]:
        """The learning rates for epoch ``last_epoch`` (already advanced)."""
        raise NotImplementedError

    def step(self, epoch: Optional[int] = None) -> None:
        """Advance one epoch (or jump to ``epoch``) and write the new ``lr`` into each group."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        groups = self.optimizer.param_groups
        if len(values) != len(groups):
            raise RuntimeError(f"{type(self).__name__}: {len(values)} learning rates for "
                               f"{len(groups)} parameter groups (was a group added after the "
                               "scheduler was built?)")
        for group, lr in zip(groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def get_last_lr(self) -> List[float]:
        """The learning rates last written by :meth:`step`, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> Dict[str, Any]:
        """Every attribute except the optimizer (numbers, lists: ``tl.save`` can store it)."""
        return {k: (list(v) if isinstance(v, list) else v)
                for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        self.__dict__.update({k: (list(v) if isinstance(v, (list, tuple)) else v)
                              for k, v in state_dict.items() if k != "optimizer"})


class StepLR(LRScheduler):
    """Multiply each group's lr by ``gamma`` every ``step_size`` epochs:
    lr(epoch) = base_lr * gamma ** (epoch // step_size) when nothing else changes the lr."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        _check_real("StepLR", "step_size", step_size, low=0, integer=True, strict=True)
        _check_real("StepLR", "gamma", gamma)
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma for g in groups]

    def _get_closed_form_lr(self) -> List[float]:
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr(epoch) = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2
    (SGDR without restarts), computed recursively from the current lr as PyTorch does:
    lr <- eta_min + (lr - eta_min) * (1 + cos(pi*e/T)) / (1 + cos(pi*(e-1)/T)).
    Past ``T_max`` the lr rises again (the cosine's period is 2 * T_max)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        _check_real("CosineAnnealingLR", "T_max", T_max, low=0, strict=True)
        _check_real("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        groups, e, T, lo = self.optimizer.param_groups, self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return [g["lr"] for g in groups]
        if self._step_count == 1 and e > 0:  # resumed at a later epoch: the closed form
            return [lo + (b - lo) * (1 + math.cos(e * math.pi / T)) / 2 for b in self.base_lrs]
        if (e - 1 - T) % (2 * T) == 0:
            # the ratio below would be 0/0 at the cosine's minimum: step up by the first increment
            return [g["lr"] + (b - lo) * (1 - math.cos(math.pi / T)) / 2
                    for b, g in zip(self.base_lrs, groups)]
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        return [ratio * (g["lr"] - lo) + lo for g in groups]

    def _get_closed_form_lr(self) -> List[float]:
        c = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply each group's lr by ``gamma`` at every epoch listed in ``milestones`` (a
    milestone listed twice multiplies by ``gamma ** 2``, as in PyTorch)."""

    def __init__(self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        try:
            ms = list(milestones)
        except TypeError:
            raise TypeError(f"MultiStepLR: milestones must be a sequence of epochs, got "
                            f"{milestones!r}") from None
        for m in ms:
            _check_real("MultiStepLR", "each milestone", m, low=0, integer=True)
        _check_real("MultiStepLR", "gamma", gamma)
        # A list of ints (not a Counter) so that state_dict() stays tl.save-able.
        self.milestones, self.gamma = sorted(int(m) for m in ms), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        groups = self.optimizer.param_groups
        # No special case for the construction step: like PyTorch, a milestone at epoch 0
        # scales the lr right away.
        hits = self.milestones.count(self.last_epoch)
        if hits == 0:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma ** hits for g in groups]

    def _get_closed_form_lr(self) -> List[float]:
        passed = sum(1 for m in self.milestones if m <= self.last_epoch)
        return [b * self.gamma ** passed for b in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply each group's lr by ``gamma`` every epoch: lr(epoch) = base_lr * gamma**epoch
    when nothing else changes the lr."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        _check_real("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        groups = self.optimizer.param_groups
        if self._is_initial or self.last_epoch == 0:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma for g in groups]

    def _get_closed_form_lr(self) -> List[float]:
        return [b * self.gamma ** self.last_epoch for b in self.base_lrs]


class LambdaLR(LRScheduler):
    """lr(epoch) = base_lr * lr_lambda(epoch); one function, or one per parameter group.
    The state dict keeps callable objects' attributes, not plain functions (as PyTorch)."""

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Union[Callable[[int], float], Sequence[Callable[[int], float]]],
                 last_epoch: int = -1) -> None:
        _check_optimizer("LambdaLR", optimizer)
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: expected {n} lr_lambdas (one per parameter group), "
                                 f"got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        for f in self.lr_lambdas:
            if not callable(f):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got {type(f).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        return [b * f(self.last_epoch) for b, f in zip(self.base_lrs, self.lr_lambdas)]

    def state_dict(self) -> Dict[str, Any]:
        state = super().state_dict()
        state["lr_lambdas"] = [None if _is_plain_function(f) else dict(f.__dict__)
                               for f in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", None) or []
        super().load_state_dict(state)
        for f, attrs in zip(self.lr_lambdas, saved):
            if attrs is not None:
                f.__dict__.update(attrs)


def _is_plain_function(f: Any) -> bool:
    import types
    return isinstance(f, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)) \
        or not hasattr(f, "__dict__")


class ReduceLROnPlateau(LRScheduler):
    """Multiply each group's lr by ``factor`` (never below its ``min_lr``, and only when the
    change exceeds ``eps``) once the metric passed to ``step(metric)`` has not improved for
    more than ``patience`` epochs; then ignore ``cooldown`` epochs. Improvement means
    ``metric < best * (1 - threshold)`` (mode 'min', threshold_mode 'rel'),
    ``metric < best - threshold`` ('min', 'abs'), ``metric > best * (1 + threshold)``
    ('max', 'rel') or ``metric > best + threshold`` ('max', 'abs')."""

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: Union[float, Sequence[float]] = 0.0,
                 eps: float = 1e-8) -> None:
        who = "ReduceLROnPlateau"
        _check_optimizer(who, optimizer)
        _check_real(who, "factor", factor, low=0.0)
        if factor >= 1.0:
            raise ValueError(f"{who}: factor must be < 1.0, got {factor}")
        _check_real(who, "patience", patience, low=0, integer=True)
        _check_real(who, "cooldown", cooldown, low=0, integer=True)
        _check_real(who, "threshold", threshold, low=0.0)
        _check_real(who, "eps", eps, low=0.0)
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"{who}: expected {n} min_lrs (one per parameter group), "
                                 f"got {len(min_lr)}")
            for v in min_lr:
                _check_real(who, "min_lr", v, low=0.0)
            self.default_min_lr: Optional[float] = None
            self.min_lrs = list(min_lr)
        else:
            _check_real(who, "min_lr", min_lr, low=0.0)
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * n
        self.optimizer = optimizer
        self.factor, self.patience, self.cooldown, self.eps = factor, patience, cooldown, eps
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, a: float, best: float) -> bool:
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return a < best * (1.0 - self.threshold)
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics: Any, epoch: Optional[int] = None) -> None:  # type: ignore[override]
        """Record this epoch's metric (a number or a one-element Tensor/array)."""
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise TypeError(f"ReduceLROnPlateau.step: the metric must be a number, got "
                            f"{type(metrics).__name__}") from None
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} "
                                   f"parameter groups but min_lr lists {len(self.min_lrs)}; "
                                   "set min_lrs to match after adding a group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, lo in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, lo)
            if old - new > self.eps:
                group["lr"] = new

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018), stepped once per batch: the lr rises from
    ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start`` of ``total_steps``
    (or ``epochs * steps_per_epoch``), then falls to ``initial_lr / final_div_factor``
    (``three_phase``: back to the initial lr first); the momentum (or Adam's beta1) moves
    the opposite way between ``max_momentum`` and ``base_momentum``. Cosine or linear
    annealing within each phase, as PyTorch."""

    def __init__(self, optimizer: Optimizer, max_lr: Any, total_steps: Optional[int] = None,
                 epochs: Optional[int] = None, steps_per_epoch: Optional[int] = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: Any = 0.85,
                 max_momentum: Any = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        who = "OneCycleLR"
        _check_optimizer(who, optimizer)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(f"{who}: you must define either total_steps OR (epochs AND "
                                 "steps_per_epoch)")
            _check_real(who, "epochs", epochs, low=0, integer=True, strict=True)
            _check_real(who, "steps_per_epoch", steps_per_epoch, low=0, integer=True,
                        strict=True)
            total_steps = epochs * steps_per_epoch
        _check_real(who, "total_steps", total_steps, low=0, integer=True, strict=True)
        if not (isinstance(pct_start, numbers.Real) and 0 <= pct_start <= 1):
            raise ValueError(f"{who}: expected float between 0 and 1 pct_start, but got "
                             f"{pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{who}: anneal_strategy must be one of 'cos' or 'linear', "
                             f"instead got {anneal_strategy!r}")
        self.total_steps = int(total_steps)
        self.anneal_strategy = anneal_strategy
        p = float(pct_start) * self.total_steps
        if three_phase:
            self._phases = [(p - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (2 * p - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                            (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                             "max_momentum")]
        else:
            self._phases = [(p - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (self.total_steps - 1, "max_lr", "min_lr", "base_momentum",
                             "max_momentum")]
        groups = optimizer.param_groups
        max_lrs = _per_group(who, "max_lr", max_lr, len(groups))
        if last_epoch == -1:
            for g, m in zip(groups, max_lrs):
                g["initial_lr"] = m / div_factor
                g["max_lr"] = m
                g["min_lr"] = g["initial_lr"] / final_div_factor
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"{who}: optimizer must support momentum or beta1 with "
                                 "`cycle_momentum` option enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            bases = _per_group(who, "base_momentum", base_momentum, len(groups))
            maxes = _per_group(who, "max_momentum", max_momentum, len(groups))
            if last_epoch == -1:
                for g, b, m in zip(groups, bases, maxes):
                    self._set_momentum(g, m)
                    g["max_momentum"], g["base_momentum"] = m, b
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: Dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> List[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; the specified number of "
                             f"total steps is {self.total_steps}")
        lrs = []
        for g in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr0, lr1, m0, m1) in enumerate(self._phases):
                if step <= end or i == len(self._phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(g[lr0], g[lr1], pct))
                    if self.cycle_momentum:
                        self._set_momentum(g, self._anneal(g[m0], g[m1], pct))
                    break
                start = end
        return lrs


def _per_group(who: str, name: str, value: Any, n: int) -> List[float]:
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{who}: expected {n} values for {name}, got {len(value)}")
        return [float(v) for v in value]
    return [float(value)] * n
