"""The Module system: Parameter, Module, and the containers Sequential, ModuleList, ModuleDict.

A Module registers what is assigned to it: ``self.fc = nn.Linear(...)`` adds a submodule,
``self.w = nn.Parameter(...)`` a parameter, ``self.register_buffer('mean', t)`` a buffer
(state that is saved but not trained). Everything else — iteration over parameters,
state dicts named like PyTorch's (``features.0.weight``), dtype conversion, train/eval —
walks that registry.

Registered entries live in ``_parameters`` / ``_buffers`` / ``_modules`` (the source of
truth for names and order) and are mirrored in the instance ``__dict__``, so reading
``self.weight`` in ``forward`` is a plain attribute lookup (PyTorch goes through
``__getattr__``, which costs on every layer call). All writes go through ``__setattr__``,
``__delattr__`` and the ``register_*`` methods, which keep both in step.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Tuple, Union

import numpy as np

import tensorlite as tl
from tensorlite import Tensor
from tensorlite._checks import shape_str
from tensorlite.tensor import _make, _to_array

__all__ = ["Parameter", "Module", "Sequential", "ModuleList", "ModuleDict"]


# ---------------------------------------------------------------------------------------
# Parameter
# ---------------------------------------------------------------------------------------
class Parameter(Tensor):
    """A Tensor that a Module registers as trainable (``requires_grad=True`` by default).

    ``Parameter(t)`` shares memory (and the version counter) with the Tensor or ndarray
    ``t``; Python data is converted like ``tl.tensor``. Only floating-point data.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            arr, version = np.empty((0,), np.float32), None
        elif isinstance(data, Tensor):
            arr, version = data._data, data._version
        elif isinstance(data, np.ndarray):
            arr, version = data, None
        else:
            arr, version = _to_array(data), None
        if arr.dtype.kind != "f":
            raise TypeError(f"Parameter: only floating-point data can be a parameter, got dtype "
                            f"{arr.dtype}")
        if arr.dtype.itemsize not in (4, 8):
            # float16 / longdouble have no kernels; converting would break the shared memory.
            raise TypeError(f"Parameter: unsupported dtype {arr.dtype} (parameters hold float32 "
                            "or float64 data; convert it first)")
        self._data = arr
        self.grad = None
        self.grad_fn = None
        self._out_nr = 0
        self._version = [0] if version is None else version
        self._hooks = None
        self._view_version = None
        self.requires_grad = bool(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: int) -> Any:
        # copy/deepcopy/pickle: rebuild from a copy of the data, keeping requires_grad. The
        # gradient is not carried over, as in PyTorch: a deep-copied model starts with
        # .grad None (a copied target network must not inherit the source's last gradient).
        return _rebuild_parameter, (self._data, self.requires_grad)


def _rebuild_parameter(data: np.ndarray, requires_grad: bool, grad: Any = None) -> Parameter:
    # `grad` is accepted (and dropped) so that objects pickled by an earlier version load.
    return Parameter(np.array(data), requires_grad)


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------
class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find and the keys it did not use."""

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


class RemovableHandle:
    """Returned by ``register_forward_hook``; ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name must not be the empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name must not contain ".", got: {name}')


def _indent(text: str, spaces: int) -> str:
    """Indent every line of ``text`` but the first (for nested module reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


def _as_array(value: Any) -> np.ndarray:
    """The array inside a state-dict value: a Tensor, an ndarray, a number, or array-like."""
    if isinstance(value, Tensor):
        return value._data
    if not isinstance(value, np.ndarray) and callable(getattr(value, "detach", None)):
        # A foreign tensor that may require grad (a PyTorch state_dict(keep_vars=True) or
        # dict(named_parameters())): its __array__ refuses such tensors, its detach() does not.
        value = value.detach()
    try:
        arr = value if isinstance(value, np.ndarray) else np.asarray(value)
    except ValueError:  # a ragged nested list
        raise TypeError(f"expected a Tensor or a numeric array, got a ragged "
                        f"{type(value).__name__}") from None
    except TypeError as e:
        # A foreign bfloat16 tensor (common in checkpoints) has no numpy dtype; its float()
        # widening to float32 is exact, so the values arrive unchanged.
        widen = getattr(value, "float", None)
        if not callable(widen):
            raise TypeError(f"expected a Tensor or a numeric array, got "
                            f"{type(value).__name__}: {e}") from None
        arr = np.asarray(widen())
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"expected a Tensor or a numeric array, got {type(value).__name__} of "
                        f"dtype {arr.dtype}")
    return arr


def _cast_error(arr: np.ndarray, target: np.ndarray) -> Optional[str]:
    """Why ``arr`` cannot be copied into ``target`` without losing values, or None.

    Floats are cast like PyTorch's copy_ (float64 -> float32 rounds, as expected); an
    integer or bool buffer (num_batches_tracked) refuses fractional or NaN values, which a
    cast would truncate silently. Only such small buffers pay for the check."""
    if target.dtype.kind in "iub" and arr.dtype.kind == "f":
        flat = arr.ravel()
        bad = flat[~(np.isfinite(flat) & (flat == np.trunc(flat)))]
        if bad.size:
            return (f"value {bad[0]} of dtype {arr.dtype} cannot be stored in a {target.dtype} "
                    "tensor without losing it")
    return None


def _assign_error(arr: np.ndarray, is_param: bool) -> Optional[str]:
    """Why ``arr`` cannot become a module's tensor as it is (``load_state_dict(assign=True)``
    keeps the checkpoint's dtype), or None."""
    if is_param and arr.dtype.kind != "f":
        return (f"assign=True would make a parameter of dtype {arr.dtype}; parameters are "
                "floating point (load without assign to convert)")
    if arr.dtype.kind == "f" and arr.dtype.itemsize not in (4, 8):
        return (f"assign=True keeps the checkpoint's dtype {arr.dtype}, which tensors do not "
                "support (float32 or float64; load without assign to convert)")
    return None


def _writable(arr: np.ndarray) -> np.ndarray:
    # A read-only array (a broadcast view, a memory-mapped file) could not be trained or
    # updated in place, so it is copied; anything else is shared, as assign promises.
    return arr if arr.flags.writeable else arr.copy()


def _assigned_parameter(value: Any, arr: np.ndarray, requires_grad: bool) -> Parameter:
    """The Parameter that ``load_state_dict(assign=True)`` installs for ``value``."""
    if isinstance(value, Parameter) and value._data is arr:
        value.requires_grad = requires_grad  # PyTorch keeps the object, with the old flag
        return value
    if isinstance(value, Tensor) and value._data is arr and arr.flags.writeable:
        return Parameter(value, requires_grad)  # shares memory and version counter
    return Parameter(_writable(arr), requires_grad)


def _assigned_buffer(value: Any, arr: np.ndarray) -> Tensor:
    if isinstance(value, Tensor) and value._data is arr and arr.flags.writeable:
        return value.detach() if value.requires_grad else value
    return _make(_writable(arr), False, None, 0, None)


def _parse_to_args(args: tuple, kwargs: dict) -> Optional[np.dtype]:
    """The dtype in ``module.to(...)`` arguments (PyTorch's call forms); devices other than
    the CPU are refused."""
    from tensorlite.device import parse_to
    dtype, _ = parse_to(args, kwargs)
    if dtype is None:
        return None
    dt = tl.as_dtype(dtype, "to")
    if dt.kind != "f":
        raise TypeError(f"to: only floating-point dtypes are accepted, got {dt}")
    return dt


# ---------------------------------------------------------------------------------------
# Module
# ---------------------------------------------------------------------------------------
class Module:
    """Base class of every layer and model.

    Subclasses call ``super().__init__()``, assign parameters / submodules as attributes,
    and define ``forward``; calling the module runs ``forward`` (and any forward hooks).
    """

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()

    # -- forward ----------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        # Each entry is (hook, with_kwargs); with_kwargs hooks also see (and may replace)
        # the keyword arguments, as PyTorch's.
        for hook, with_kwargs in list(self._forward_pre_hooks.values()):
            if with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result!r}")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        out = self.forward(*args, **kwargs)
        for hook, with_kwargs in list(self._forward_hooks.values()):
            result = hook(self, args, kwargs, out) if with_kwargs else hook(self, args, out)
            if result is not None:
                out = result
        return out

    @staticmethod
    def _add_hook(hooks: dict, hook: Callable, prepend: bool, with_kwargs: bool
                  ) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"register hook: expected a callable, got {type(hook).__name__}")
        handle = RemovableHandle(hooks)
        hooks[handle.id] = (hook, bool(with_kwargs))
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` runs before forward; it may return replacement args.
        With ``with_kwargs``: ``hook(module, args, kwargs)`` returning None or
        ``(args, kwargs)``. ``prepend`` runs it before the hooks already registered."""
        return self._add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` runs after forward; it may return a new output.
        With ``with_kwargs``: ``hook(module, args, kwargs, output)``."""
        return self._add_hook(self._forward_hooks, hook, prepend, with_kwargs)

    # -- registration -----------------------------------------------------------------
    def _registries(self) -> Tuple[dict, dict, dict]:
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(f"cannot assign parameters, buffers or submodules to "
                                 f"{type(self).__name__} before Module.__init__() call")
        return d["_parameters"], d["_buffers"], d["_modules"]

    def _forget(self, name: str) -> None:
        """Remove ``name`` from every registry and from the instance dict."""
        params, buffers, modules = self._registries()
        params.pop(name, None)
        buffers.pop(name, None)
        modules.pop(name, None)
        self._non_persistent_buffers.discard(name)
        self.__dict__.pop(name, None)

    def _put(self, registry: str, name: str, value: Any) -> None:
        """Store ``value`` under ``name`` in one registry and the instance dict.

        Replacing an entry of the same kind keeps its position (state-dict order)."""
        d = self.__dict__
        entries = d[registry]
        if name not in entries:
            self._forget(name)
        entries[name] = value
        d[name] = value

    def register_parameter(self, name: str, param: Optional[Parameter]) -> None:
        """Add a parameter (or None: a declared but absent parameter, like ``bias=False``)."""
        params, _, _ = self._registries()
        _check_name("parameter", name)
        if hasattr(self, name) and name not in params:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (nn.Parameter or None required)")
        self._put("_parameters", name, param)

    def register_buffer(self, name: str, tensor: Optional[Tensor], persistent: bool = True) -> None:
        """Add a buffer: state saved in the state dict (if persistent) but not trained."""
        _, buffers, _ = self._registries()
        _check_name("buffer", name)
        if hasattr(self, name) and name not in buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(Tensor or None required)")
        self._put("_buffers", name, tensor)
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Optional["Module"]) -> None:
        """Add a child module (or None)."""
        _, _, modules = self._registries()
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: cannot add child {name!r}: "
                            f"{type(module).__name__} is not a Module subclass")
        _check_name("module", name)
        if hasattr(self, name) and name not in modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._put("_modules", name, module)

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._put("_parameters", name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(nn.Parameter or None expected)")
            self._put("_parameters", name, None)
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._put("_modules", name, value)
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (nn.Module or None expected)")
            self._put("_modules", name, None)
            return
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(Tensor or None expected)")
            self._put("_buffers", name, value)
            return
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only reached when `name` is not in the instance dict: entries placed directly
        # into the registries (PyTorch idiom) are still found.
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}' "
                                 "(did its __init__ call super().__init__()?)")
        for reg in ("_parameters", "_buffers", "_modules"):
            entries = d[reg]
            if name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for reg in ("_parameters", "_buffers", "_modules"):
            entries = d.get(reg)
            if entries is not None and name in entries:
                self._forget(name)
                return
        object.__delattr__(self, name)

    # -- lookup -----------------------------------------------------------------------
    def get_submodule(self, target: str) -> "Module":
        """The submodule at a dotted path (``'features.0'``); ``''`` is this module."""
        mod = self
        if target == "":
            return mod
        for part in target.split("."):
            child = mod._modules.get(part)
            if not isinstance(child, Module):
                raise AttributeError(f"{type(mod).__name__} has no submodule `{part}` "
                                     f"(looking up '{target}')")
            mod = child
        return mod

    def get_parameter(self, target: str) -> Parameter:
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if name not in mod._parameters:
            raise AttributeError(f"{type(mod).__name__} has no parameter `{name}`")
        return mod._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if name not in mod._buffers:
            raise AttributeError(f"{type(mod).__name__} has no buffer `{name}`")
        return mod._buffers[name]

    # -- iteration --------------------------------------------------------------------
    def named_modules(self, memo: Optional[set] = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[Tuple[str, "Module"]]:
        """(name, module) for this module and every descendant, depth first, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from child.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[Tuple[str, "Module"]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[Tuple[str, Tensor]]:
        # Shared parameters (tied weights) are reported once, under their first name.
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, t in mod.__dict__[registry].items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                if remove_duplicate:
                    seen.add(id(t))
                yield mod_prefix + ("." if mod_prefix else "") + name, t

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[Tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs, each parameter once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[Tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # -- modes and gradients ------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Set training mode here and in every descendant (dropout, batch-norm statistics)."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode is expected to be a bool, got {mode!r}")
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad`` (to None, or to zeros with ``set_to_none=False``)."""
        for p in self.parameters():
            g = p.grad
            if g is None:
                continue
            if set_to_none:
                p.grad = None
            elif g.grad_fn is None and g._data.flags.writeable:
                g.requires_grad = False
                g._data[...] = 0
                g._version[0] += 1
            else:
                p.grad = _make(np.zeros_like(g._data), False, None, 0, None)

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn`` on every submodule (children first) and on this module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- dtype ------------------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> "Module":
        """Convert floating-point parameters and buffers to a dtype, in place.

        The Parameter objects stay the same (only their ``.data`` is replaced), so an
        optimizer built before the conversion still holds them. ``to('cpu')`` is a no-op.
        """
        dtype = _parse_to_args(args, dict(kwargs))
        if dtype is not None:
            self._cast_floats(dtype)
        return self

    def double(self) -> "Module":
        return self.to(tl.float64)

    def float(self) -> "Module":
        return self.to(tl.float32)

    def cpu(self) -> "Module":
        return self

    def type(self, dst_type: Any) -> "Module":
        """Convert floating-point parameters and buffers to ``dst_type``, in place (PyTorch's
        ``Module.type``). Integer buffers such as ``num_batches_tracked`` stay integers, as
        with ``to``: a counter converted to float would load back as one."""
        dt = tl.as_dtype(dst_type, "type")
        if dt.kind != "f":
            raise TypeError(f"type: only floating-point dtypes are accepted, got {dt}")
        self._cast_floats(dt)
        return self

    def half(self) -> "Module":
        raise TypeError(f"{type(self).__name__}.half: float16 is not supported (tensors hold "
                        "float32 or float64 data); use float() or double()")

    def bfloat16(self) -> "Module":
        raise TypeError(f"{type(self).__name__}.bfloat16: bfloat16 is not supported (tensors "
                        "hold float32 or float64 data); use float() or double()")

    def cuda(self, *args: Any, **kwargs: Any) -> "Module":
        from tensorlite.device import no_cuda
        raise no_cuda(type(self).__name__)

    def _cast_floats(self, dtype: np.dtype) -> None:
        seen = set()
        for mod in self.modules():
            for t in list(mod._parameters.values()) + list(mod._buffers.values()):
                if t is None or id(t) in seen or t._data.dtype.kind != "f":
                    continue
                seen.add(id(t))
                if t._data.dtype != dtype:
                    t._data = t._data.astype(dtype)
                    # Graphs that saved this tensor must not backward through new data.
                    t._version[0] += 1
                if t.grad is not None and t.grad._data.dtype != dtype:
                    t.grad = _make(t.grad._data.astype(dtype), False, None, 0, None)

    # -- state dict -------------------------------------------------------------------
    def state_dict(self, destination: Optional[dict] = None, prefix: str = "",
                   keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by dotted name (``'features.0.weight'``).

        The values share memory with the module's tensors (detached unless ``keep_vars``).
        """
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def _state_slots(self, prefix: str = "") -> Iterator[Tuple[str, "Module", str, bool]]:
        """(state-dict key, owning module, attribute name, is a parameter), in the order
        and with the names of ``state_dict`` (a shared module appears under each name)."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, self, name, True
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                yield prefix + name, self, name, False
        for name, child in self._modules.items():
            if child is not None:
                yield from child._state_slots(prefix + name + ".")

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> _IncompatibleKeys:
        """Copy values (Tensors or numpy arrays) into the parameters and buffers by name.

        Every key and shape is checked before anything is written: on error nothing
        changes. With ``strict`` (default), missing or unexpected keys are errors; either
        way the result lists them as ``(missing_keys, unexpected_keys)``. Values are
        converted to each tensor's dtype.

        With ``assign=True`` (PyTorch's), the checkpoint's arrays become the module's
        tensors instead of being copied: no copy, the checkpoint's dtype is kept, and the
        new Parameters keep the old ones' ``requires_grad``. An optimizer built before
        holds the old Parameter objects, so build it afterwards.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of names to tensors, got "
                            f"{type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        # Entries a module can do without (BatchNorm's num_batches_tracked, absent from old
        # checkpoints): when missing they keep their current value, as in PyTorch.
        optional = {f"{prefix}.{name}" if prefix else name
                    for prefix, m in self.named_modules()
                    for name in getattr(m, "_optional_state", ())}
        missing = [k for k in own if k not in state_dict and k not in optional]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict:
            # PyTorch's order: missing keys first, then unexpected ones.
            if missing:
                errors.append("Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
        updates = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            try:
                arr = _as_array(value)
            except TypeError as e:
                errors.append(f"bad value for {key}: {e}")
                continue
            if arr.shape != target._data.shape:
                if target._data.ndim == 0 and arr.shape == (1,):
                    # PyTorch's compatibility rule: old checkpoints saved 0-d entries
                    # (num_batches_tracked) as 1-element vectors.
                    arr = arr.reshape(())
                else:
                    errors.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{shape_str(arr.shape)} from checkpoint, the shape in "
                                  f"current model is {shape_str(target._data.shape)}.")
                    continue
            why = (_assign_error(arr, isinstance(target, Parameter)) if assign
                   else _cast_error(arr, target._data))
            if why is not None:
                errors.append(f"bad value for {key}: {why}")
                continue
            updates.append((key, target, value, arr))
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        if assign:
            slots = {key: (mod, name) for key, mod, name, _ in self._state_slots()}
            for key, target, value, arr in updates:
                mod, name = slots[key]
                if isinstance(target, Parameter):
                    mod._put("_parameters", name, _assigned_parameter(value, arr,
                                                                      target.requires_grad))
                else:
                    mod._put("_buffers", name, _assigned_buffer(value, arr))
        else:
            for _, target, _, arr in updates:
                if target._data is not arr:
                    target._data[...] = arr
                target._version[0] += 1
        return _IncompatibleKeys(missing, unexpected)

    # -- repr -------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text shown inside this module's parentheses (its constructor arguments)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _indent(repr(m), 2) for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return self._get_name() + "(" + body + ")"


# ---------------------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------------------
def _check_child(op: str, module: Any) -> None:
    if not isinstance(module, Module):
        raise TypeError(f"{op}: {type(module).__name__} is not a Module subclass")


def _index(op: str, idx: Any, n: int) -> int:
    if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)):
        raise TypeError(f"{op}: indices must be integers or slices, got {type(idx).__name__}")
    if not -n <= idx < n:
        raise IndexError(f"{op}: index {idx} is out of range for {n} modules")
    return int(idx) % n


class _Indexed(Module):
    """Shared machinery of Sequential and ModuleList: children named '0', '1', ..."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def _renumber(self, mods: list) -> None:
        for name in list(self._modules):
            self._forget(name)
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def __setitem__(self, idx: int, module: Module) -> None:
        k = _index(type(self).__name__, idx, len(self))
        # Replace the child at that position under its own name (a Sequential built from
        # an OrderedDict keeps 'fc', not a new '0').
        self.add_module(list(self._modules)[k], module)

    def __delitem__(self, idx: Union[int, slice]) -> None:
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            del mods[idx]
        else:
            del mods[_index(type(self).__name__, idx, len(mods))]
        # Children stay numbered 0..n-1, so state-dict names remain contiguous.
        self._renumber(mods)

    def append(self, module: Module) -> "_Indexed":
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "_Indexed":
        mods = list(modules)
        # All checked first: a bad entry must not leave the container half extended.
        for m in mods:
            _check_child(type(self).__name__, m)
        for m in mods:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        op = f"{type(self).__name__}.insert"
        n = len(self)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"{op}: index must be an integer, got {type(index).__name__}")
        if not -n <= index <= n:
            raise IndexError(f"{op}: index {index} is out of range for {n} modules")
        # Checked before the children are renumbered, which would otherwise be half done.
        _check_child(type(self).__name__, module)
        mods = list(self._modules.values())
        mods.insert(int(index), module)
        self._renumber(mods)

    def pop(self, key: Union[int, slice]) -> Any:
        """Remove and return the module (or, for a slice, the modules) at ``key``."""
        v = self[key]
        del self[key]
        return v

    def __iadd__(self, modules: Iterable[Module]) -> "_Indexed":
        return self.extend(modules)


def _repeats(other: Any) -> int:
    if isinstance(other, bool) or not isinstance(other, (int, np.integer)):
        raise TypeError(f"Sequential: unsupported operand type(s) for *: 'Sequential' and "
                        f"'{type(other).__name__}'")
    if other <= 0:
        raise ValueError(f"Sequential: non-positive multiplication factor {other} is not "
                         "supported")
    return int(other)


class Sequential(_Indexed):
    """Modules applied in order: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Children are named '0', '1', ... (or by the keys of an OrderedDict argument).
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def __getitem__(self, idx: Union[int, slice]) -> Union[Module, "Sequential"]:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index("Sequential", idx, len(self))]

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x

    def __add__(self, other: "Sequential") -> "Sequential":
        if not isinstance(other, Sequential):
            raise ValueError(f"Sequential: add operator supports only objects of Sequential "
                             f"class, but {type(other).__name__} is given")
        return Sequential(*self, *other)

    def __mul__(self, other: int) -> "Sequential":
        # The same module objects repeated (shared parameters), as in PyTorch.
        return Sequential(*(list(self) * _repeats(other)))

    __rmul__ = __mul__

    def __imul__(self, other: int) -> "Sequential":
        mods = list(self) * _repeats(other)
        self._renumber(mods)
        return self


class ModuleList(_Indexed):
    """A list of modules, registered so their parameters are found; no forward of its own."""

    def __init__(self, modules: Optional[Iterable[Module]] = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: Union[int, slice]) -> Union[Module, "ModuleList"]:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return list(self._modules.values())[_index("ModuleList", idx, len(self))]

    def __add__(self, other: Iterable[Module]) -> "ModuleList":
        return ModuleList(list(self) + list(other))

    def __repr__(self) -> str:
        # Runs of identical children print once, as PyTorch does: "(0-2): 3 x Linear(...)".
        runs: list = []
        for name, m in self._modules.items():
            text = repr(m)
            if runs and runs[-1][2] == text:
                runs[-1][1] = name
                runs[-1][3] += 1
            else:
                runs.append([name, name, text, 1])
        if not runs:
            return "ModuleList()"
        lines = []
        for first, last, text, count in runs:
            label = first if count == 1 else f"{first}-{last}"
            lines.append(f"({label}): " + ("" if count == 1 else f"{count} x ")
                         + _indent(text, 2))
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules by name, registered so their parameters are found."""

    def __init__(self, modules: Optional[Any] = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise KeyError(key)
        self._forget(key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def items(self) -> Iterable[Tuple[str, Module]]:
        return self._modules.items()

    def clear(self) -> None:
        for key in list(self._modules):
            self._forget(key)

    def pop(self, key: str) -> Module:
        m = self[key]
        del self[key]
        return m

    def update(self, modules: Any) -> None:
        """Add (or replace) entries from a mapping or an iterable of (key, module) pairs."""
        items = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        pairs = []
        for i, entry in enumerate(items):
            if not isinstance(entry, (tuple, list)):
                raise TypeError(f"ModuleDict.update: sequence element #{i} should be a "
                                f"(key, module) pair, got {type(entry).__name__}")
            if len(entry) != 2:
                raise ValueError(f"ModuleDict.update: sequence element #{i} has length "
                                 f"{len(entry)}; 2 is required")
            _check_name("module", entry[0])
            _check_child("ModuleDict", entry[1])
            pairs.append(entry)
        # Every entry checked before the first is added: a bad one leaves the dict as it was.
        for key, m in pairs:
            self[key] = m


def _as_parameter(value: Any) -> Parameter:
    # As PyTorch: a Tensor put into a ParameterList/Dict becomes a Parameter.
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"expected an nn.Parameter or a Tensor, got {type(value).__name__}")


class ParameterList(Module):
    """A list of parameters, registered under the names "0", "1", ... (as PyTorch)."""

    def __init__(self, values: Optional[Iterable[Any]] = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(list(self._parameters.values()))

    def __getitem__(self, idx: Union[int, slice]) -> Any:
        values = list(self._parameters.values())
        if isinstance(idx, slice):
            return ParameterList(values[idx])
        return values[_index("ParameterList", idx, len(values))]

    def __setitem__(self, idx: int, value: Any) -> None:
        k = _index("ParameterList", idx, len(self))
        self.register_parameter(str(k), _as_parameter(value))

    def append(self, value: Any) -> "ParameterList":
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values: Iterable[Any]) -> "ParameterList":
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): Parameter containing: [{p.dtype} of size "
                         f"{'x'.join(map(str, p.shape))}]" for k, p in self._parameters.items())


class ParameterDict(Module):
    """A dict of parameters by name, registered so they are trained and saved."""

    def __init__(self, parameters: Optional[Any] = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        return self._parameters[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        if key not in self._parameters:
            raise KeyError(key)
        self._forget(key)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._parameters))

    def __contains__(self, key: str) -> bool:
        return key in self._parameters

    def keys(self) -> Any:
        return self._parameters.keys()

    def items(self) -> Any:
        return self._parameters.items()

    def values(self) -> Any:
        return self._parameters.values()

    def update(self, parameters: Any) -> None:
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for k, v in items:
            self[k] = v
