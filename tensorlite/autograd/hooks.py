"""Hooks: functions users attach to gradients.

* ``t.register_hook(fn)``: ``fn(grad)`` sees (and may replace) ``t``'s gradient. A leaf
  keeps its hooks itself; a non-leaf's live on the node that made it, as *pre-hooks* of
  that output, and run before the node's backward.
* ``t.retain_grad()``: a pre-hook that stores a non-leaf's gradient in ``.grad``.
* ``t.register_post_accumulate_grad_hook(fn)``: ``fn(t)`` after a leaf's ``.grad`` was
  accumulated (an optimizer step in backward, an all-reduce).
* ``queue_callback(fn)``: ``fn()`` once the running backward pass has finished.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable

from ..tensor import Tensor

class RemovableHandle:
    """What ``Tensor.register_hook`` returns: ``handle.remove()`` unregisters the hook
    (also usable as ``with t.register_hook(fn): ...``)."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        hooks, self._hooks = self._hooks, None
        if hooks is None:
            return  # removed already: a second remove() must not take a twin registration
        for k, h in enumerate(hooks):
            if h is self._hook:
                del hooks[k]
                return

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class _RetainGrad:
    """The hook ``retain_grad`` puts on a non-leaf's gradient: keeps it in ``.grad``."""

    __slots__ = ("ref",)

    def __init__(self, t: Any) -> None:
        self.ref = weakref.ref(t)  # the graph must not keep the tensor alive

    def __call__(self, g: Any) -> None:
        t = self.ref()
        if t is None:
            return
        # A copy, as PyTorch's: the gradient array flows on into the graph (to other
        # nodes and leaves), so `.grad` must not share it.
        t.grad = g.clone() if t.grad is None else t.grad + g


def add_pre_hook(node: Any, nr: int, hook: Callable) -> RemovableHandle:
    """Run ``hook(grad)`` on the gradient of ``node``'s output ``nr`` before its backward."""
    if node._pre_hooks is None:
        node._pre_hooks = {}
    hooks = node._pre_hooks.setdefault(nr, [])
    if hooks and isinstance(hooks[-1], _RetainGrad):
        # retain_grad stores what every other hook has made of the gradient (PyTorch's
        # order), so it stays last whenever it was registered.
        hooks.insert(len(hooks) - 1, hook)
    else:
        hooks.append(hook)
    return RemovableHandle(hooks, hook)


def register_hook(t: Any, hook: Callable) -> RemovableHandle:
    """``t.register_hook(hook)``: ``hook(grad)`` runs when ``t``'s gradient is computed and may
    return a replacement of the same shape and dtype. A leaf keeps its hooks itself; a
    non-leaf's live on the node that made it (they run before that node's backward)."""
    if not t.requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that does not "
                           "require grad")
    if not callable(hook):
        raise TypeError(f"register_hook: the hook must be callable, got {type(hook).__name__}")
    if t.grad_fn is None:
        return _leaf_hooks(t).on_grad.add(hook)
    return add_pre_hook(t.grad_fn, t._out_nr, hook)


class _HookList(list):
    def add(self, hook: Callable) -> RemovableHandle:
        self.append(hook)
        return RemovableHandle(self, hook)


class LeafHooks:
    """A leaf tensor's hooks (its ``_hooks`` slot, None until the first is registered):
    ``on_grad`` see its gradient before ``.grad`` is stored, ``post`` run after."""

    __slots__ = ("on_grad", "post")

    def __init__(self) -> None:
        self.on_grad = _HookList()
        self.post = _HookList()


def _leaf_hooks(t: Any) -> LeafHooks:
    if t._hooks is None:
        t._hooks = LeafHooks()
    return t._hooks


def retain_grad(t: Any) -> None:
    """``t.retain_grad()``: keep a non-leaf's gradient in ``.grad`` (a leaf keeps it anyway).

    Its hook always runs after the tensor's other hooks, whichever was registered first,
    and registering twice keeps one (PyTorch's rules)."""
    node = t.grad_fn
    if node is None:
        if not t.requires_grad:
            raise RuntimeError("retain_grad: tensor does not require grad")
        return
    hooks = node._pre_hooks.get(t._out_nr) if node._pre_hooks is not None else None
    if hooks and any(isinstance(h, _RetainGrad) and h.ref() is t for h in hooks):
        return
    if node._pre_hooks is None:
        node._pre_hooks = {}
    node._pre_hooks.setdefault(t._out_nr, []).append(_RetainGrad(t))


def run_hooks(hooks: list, g: Any, seen: set) -> Any:
    # A hook may keep the gradient it is handed: `seen` records the arrays user code has
    # seen, so that a leaf's .grad never shares (and later accumulates into) one of them.
    seen.add(id(g._data))
    for h in tuple(hooks):  # a hook may remove itself
        r = h(g)
        if r is not None:
            _check_hook_result(h, g, r)
            g = r
            seen.add(id(g._data))
    return g


def _check_hook_result(hook: Callable, g: Any, r: Any) -> None:
    # As PyTorch: a hook may change a gradient's values but not its shape or dtype (the
    # node it flows into was built for exactly those).
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(r, Tensor):
        raise TypeError(f"hook '{name}' returned {type(r).__name__}; a hook must return a Tensor "
                        "or None")
    if r._data.shape != g._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value: it returned shape "
                           f"{tuple(r._data.shape)} for a gradient of shape {tuple(g._data.shape)}")
    if r._data.dtype != g._data.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value: it returned dtype "
                           f"{r._data.dtype} for a gradient of dtype {g._data.dtype}")


def run_post_accumulate_hooks(leaf: Any) -> None:
    for h in tuple(leaf._hooks.post):  # a hook may remove itself
        if h(leaf) is not None:
            name = getattr(h, "__name__", type(h).__name__)
            raise TypeError(f"post accumulate grad hook '{name}' returned a value; such hooks "
                            "must return None (they may change .grad in place)")


def register_post_accumulate_grad_hook(t: Any, hook: Callable) -> RemovableHandle:
    """``t.register_post_accumulate_grad_hook(hook)``: ``hook(t)`` runs after ``t.grad`` has
    been accumulated by a backward pass (PyTorch's semantics: leaves only, returns None)."""
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook: the hook must be callable, got "
                        f"{type(hook).__name__}")
    if not t.requires_grad:
        raise RuntimeError("register_post_accumulate_grad_hook: cannot register a hook on a "
                           "tensor that does not require grad")
    if t.grad_fn is not None:
        raise RuntimeError("register_post_accumulate_grad_hook: post accumulate grad hooks cannot "
                           "be registered on non-leaf tensors (its grad is never accumulated)")
    return _leaf_hooks(t).post.add(hook)


# -- end-of-backward callbacks ----------------------------------------------------------
# One frame (a list of callbacks) per running backward; nested backwards (one called from a
# hook) get their own. A frame's callbacks run when its backward has finished.
callback_frames: list = []


class _ExecutionEngine:
    """The role of PyTorch's ``Variable._execution_engine``: ``queue_callback(fn)`` from a
    hook runs ``fn()`` once the current backward pass has finished (every ``.grad`` stored,
    every hook run), before ``backward()`` returns. DistributedDataParallel waits for its
    last all-reduces there."""

    def queue_callback(self, callback: Callable[[], None]) -> None:
        if not callable(callback):
            raise TypeError(f"queue_callback: the callback must be callable, got "
                            f"{type(callback).__name__}")
        if not callback_frames:
            raise RuntimeError("queue_callback: final callbacks can only be installed during the "
                               "backward pass (from a hook)")
        callback_frames[-1].append(callback)


_execution_engine = _ExecutionEngine()


def queue_callback(callback: Callable[[], None]) -> None:
    """Run ``callback()`` when the backward pass now running has finished."""
    _execution_engine.queue_callback(callback)
