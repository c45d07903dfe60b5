"""The optimizer base: parameter groups, per-parameter state, state dicts (PyTorch's layout).

An optimizer updates each parameter's numpy array in place. No graph is recorded and no
Tensor is created during ``step()``: for a small model the cost of a step is Python and
numpy call overhead, so the per-parameter work is a handful of in-place ufunc calls
(``out=`` into state arrays or one scratch array) with the hyper-parameters read once per
group.

State lives in ``optimizer.state[param]`` (a dict per parameter, holding numpy arrays and
the integer ``step``); Tensors hash by identity, so a parameter is its own key, as in
PyTorch, and a parameter whose ``.data`` is replaced (``model.double()``) keeps its state.
"""
from __future__ import annotations

import numbers
from collections import defaultdict
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np

from ..tensor import Tensor, _make

ParamsT = Iterable[Any]  # Tensors, (name, Tensor) pairs, or dicts of parameter groups


class Optimizer:
    """Base class: holds ``param_groups`` (list of dicts with ``"params"`` and the
    hyper-parameters) and ``state``; subclasses implement ``_step_group(group, items)``."""

    def __init__(self, params: ParamsT, defaults: Dict[str, Any]) -> None:
        name = type(self).__name__
        self.defaults = dict(defaults)
        self.state: Dict[Tensor, Dict[str, Any]] = defaultdict(dict)
        self.param_groups: List[Dict[str, Any]] = []
        if isinstance(params, (Tensor, np.ndarray)):
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts, got a "
                            f"single {type(params).__name__} (wrap it in a list)")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: params must be an ordered collection (a set's order "
                            "changes between runs, and state dicts refer to parameters by "
                            "position)")
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- parameter groups ------------------------------------------------------------
    def add_param_group(self, param_group: Dict[str, Any]) -> None:
        """Add a group: a dict with ``"params"`` and optional hyper-parameter overrides;
        missing hyper-parameters take the optimizer's defaults."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: a group's params must be an ordered collection, not a set")
        else:
            params = list(params)
        if params and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
                          for p in params):
            # named parameters, e.g. model.named_parameters() (as PyTorch's param_names)
            group["param_names"] = [n for n, _ in params]
            params = [p for _, p in params]
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameters must be Tensors, got "
                                f"{type(p).__name__} at position {i}")
            if p._data.dtype.kind != "f":
                # an integer parameter cannot take a fractional step (the in-place update
                # would fail half-way through the parameter list)
                raise TypeError(f"{name}: can only optimize floating-point tensors, got dtype "
                                f"{p.dtype} at position {i} (shape {tuple(p.shape)})")
            if p.grad_fn is not None:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (position {i}, "
                                 f"shape {tuple(p.shape)}); pass leaves, e.g. x.detach()"
                                 ".requires_grad_()")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        mine: set = set()
        for p in params:
            if id(p) in seen:
                raise ValueError(f"{name}: a parameter of shape {tuple(p.shape)} appears in "
                                 "more than one parameter group")
            if id(p) in mine:
                raise ValueError(f"{name}: a parameter of shape {tuple(p.shape)} appears twice "
                                 "in one parameter group (it would be updated twice)")
            mine.add(id(p))
        group["params"] = params
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: Dict[str, Any]) -> None:
        """Validate a group's hyper-parameters (subclasses extend); raise before any change."""
        _check_number(self, group, "lr", "learning rate")
        _check_number(self, group, "weight_decay", "weight_decay")

    # -- the update --------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (``set_to_none``) or zero it in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:  # a gradient recorded with create_graph
                        g = p.grad = g.detach()
                    g._data.fill(0)
                    g._version[0] += 1

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """One update of every parameter that has a gradient; ``closure`` (re-evaluates the
        model and returns the loss) is called first, with grad enabled, and its loss returned."""
        loss = None
        if closure is not None:
            from ..autograd import enable_grad
            with enable_grad():
                loss = closure()
        name = type(self).__name__
        # Every gradient of every group is checked before any parameter moves: a bad one in
        # the last group must not leave the first groups updated (and their state advanced).
        work = []
        for group in self.param_groups:
            items = []
            for p in group["params"]:
                gt = p.grad
                if gt is None:
                    continue
                w, g = p._data, gt._data
                if g.shape != w.shape:
                    raise RuntimeError(f"{name}.step: gradient of shape {g.shape} for a "
                                       f"parameter of shape {w.shape}")
                if g.dtype.kind != "f" or w.dtype.kind != "f":
                    raise TypeError(f"{name}.step: gradient of dtype {g.dtype} for a parameter "
                                    f"of dtype {w.dtype} (shape {w.shape}); both must be "
                                    "floating point")
                if g.dtype != w.dtype:
                    # a gradient assigned by hand in another precision (autograd always gives
                    # the leaf's dtype): the update must run in the parameter's precision, as
                    # g * g in float32 written into a float64 state would lose digits
                    g = g.astype(w.dtype)
                items.append((p, w, g))
            if items:
                work.append((group, items))
        for group, items in work:
            self._step_group(group, items)
            for p, _, _ in items:
                p._version[0] += 1  # the arrays changed in place: autograd must know
        return loss

    def _step_group(self, group: Dict[str, Any],
                    items: List[Tuple[Tensor, np.ndarray, np.ndarray]]) -> None:
        """Update ``(param, param._data, param.grad._data)`` triples in place."""
        raise NotImplementedError

    # -- state dicts: parameters referred to by position, as in PyTorch -----------------
    def state_dict(self) -> Dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``.

        Indices number the parameters across groups in order. State arrays are returned
        as Tensors holding copies (a snapshot, unaffected by later steps)."""
        index: Dict[int, int] = {}
        groups = []
        for g in self.param_groups:
            packed = {k: (list(v) if k == "param_names" else v)
                      for k, v in g.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in g["params"]]
            groups.append(packed)
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                st = self.state.get(p)
                if st:
                    state[index[id(p)]] = {
                        k: (_make(v.copy(), False, None, 0, None) if isinstance(v, np.ndarray)
                            else v) for k, v in st.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (possibly after ``tl.save``/``tl.load``)
        into an optimizer built over the same parameters in the same order. Hyper-parameters
        come from the state dict; arrays are copied and cast to each parameter's dtype."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or "state" not in state_dict \
                or "param_groups" not in state_dict:
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}: the state dict has {len(saved_groups)} parameter groups, "
                             f"the optimizer {len(self.param_groups)}")
        by_index: Dict[int, Tensor] = {}
        for gi, (saved, own) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(f"{name}: group {gi} has {len(saved['params'])} parameters in "
                                 f"the state dict, {len(own['params'])} in the optimizer")
            for i, p in zip(saved["params"], own["params"]):
                by_index[int(i)] = p
        new_state: Dict[Tensor, Dict[str, Any]] = defaultdict(dict)
        for k, st in state_dict["state"].items():
            p = by_index.get(int(k))
            if p is None:
                raise ValueError(f"{name}: state for parameter index {k}, which no parameter "
                                 "group of the state dict lists")
            entry = {}
            for key, v in st.items():
                if isinstance(v, Tensor):
                    v = v._data
                if key == "step":
                    v = int(np.asarray(v).item())
                elif isinstance(v, np.ndarray):
                    if v.shape != p._data.shape:
                        raise ValueError(f"{name}: state {key!r} of parameter {k} has shape "
                                         f"{v.shape}, the parameter {p._data.shape}")
                    v = np.array(v, dtype=p._data.dtype if v.dtype.kind == "f" else v.dtype,
                                 order="C")
                entry[key] = v
            new_state[p] = entry
        new_groups = []
        for saved, own in zip(saved_groups, self.param_groups):
            group = {k: (tuple(v) if k == "betas" else v)
                     for k, v in saved.items() if k not in ("params", "param_names")}
            group["params"] = own["params"]
            if "param_names" in saved:
                group["param_names"] = list(saved["param_names"])
            elif "param_names" in own:
                group["param_names"] = own["param_names"]
            for k, v in self.defaults.items():
                group.setdefault(k, v)
            self._check_group(group)
            new_groups.append(group)
        # Everything validated: commit.
        self.state = new_state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {g[k]}" for k in sorted(g) if k not in ("params", "param_names")]
        return "\n".join(lines) + "\n)"


def _check_impl_flags(name: str, **flags: Any) -> None:
    """PyTorch's ``foreach`` / ``fused`` pick an implementation, not the maths: accepted so
    that PyTorch code runs, and ignored (there is one implementation here)."""
    for k, v in flags.items():
        if v is not None and not isinstance(v, (bool, np.bool_)):
            raise TypeError(f"{name}: {k} must be None or a bool, got {v!r}")


def _check_number(opt: Any, group: Dict[str, Any], key: str, label: str,
                  low: float = 0.0, high: Optional[float] = None) -> None:
    """``group[key]`` must be a real number in ``[low, high)``: else a clear error."""
    v = group[key]
    name = type(opt).__name__
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name}: {label} must be a real number, got {v!r}")
    if not v >= low or (high is not None and not v < high):
        raise ValueError(f"{name}: invalid {label} {v}")
