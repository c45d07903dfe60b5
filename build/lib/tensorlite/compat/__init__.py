"""Run PyTorch scripts unchanged: ``torch`` and its submodules as aliases of tensorlite.

    python -m tensorlite.run train.py --epochs 3      # the script's `import torch` gets tensorlite

or, inside Python::

    from tensorlite import compat
    compat.install()            # from now on `import torch` is tensorlite
    with compat.installed():    # ... or only inside this block

or, in a script written for both, ``import tensorlite.compat.torch as torch``.

``install()`` puts the aliases into ``sys.modules`` (``torch``, ``torch.nn``,
``torch.nn.functional``, ``torch.optim``, ``torch.utils.data``, ``torch.autograd``,
``torch.cuda``, ``torch.backends``, ``torch.onnx``, ... see ``ALIASES``) and a finder that
answers the imports tensorlite cannot serve (``torchvision``, ``torch.jit``, ...) with a
``ModuleNotFoundError`` saying what to do instead. A real PyTorch already imported is set
aside and put back by ``uninstall()``.

This package is the one place under ``tensorlite/`` that imports ``nn``: the alias joins
the two packages, and ``import tensorlite`` never loads it.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import sys
import types
from typing import Any, Dict, Iterator, Optional

__all__ = ["install", "uninstall", "installed", "is_installed", "ALIASES", "REFUSED"]

# alias -> the tensorlite module it stands for (imported when the alias is installed)
ALIASES: Dict[str, str] = {
    "torch": "tensorlite.compat.torch",
    "torch.nn": "nn",
    "torch.nn.functional": "nn.functional",
    "torch.nn.init": "nn.init",
    "torch.nn.utils": "nn.utils",
    "torch.nn.modules": "nn",
    "torch.nn.modules.module": "nn.module",
    "torch.nn.modules.loss": "nn.loss",
    "torch.nn.parameter": "nn.module",
    "torch.optim": "tensorlite.optim",
    "torch.optim.optimizer": "tensorlite.optim.optimizer",
    "torch.optim.lr_scheduler": "tensorlite.optim.lr_scheduler",
    "torch.utils": "tensorlite.compat._utils",
    "torch.utils.data": "tensorlite.data",
    "torch.utils.data.dataset": "tensorlite.data.dataset",
    "torch.utils.data.dataloader": "tensorlite.data.dataset",
    "torch.utils.data.sampler": "tensorlite.data.dataset",
    "torch.autograd": "tensorlite.autograd",
    "torch.autograd.function": "tensorlite.autograd",
    "torch.autograd.variable": "tensorlite.autograd",
    "torch.linalg": "tensorlite.linalg",
    "torch.cuda": "tensorlite.cuda",
    "torch.mps": "tensorlite.mps",
    "torch.accelerator": "tensorlite.accelerator",
    "torch.backends": "tensorlite.backends",
    "torch.backends.cudnn": "tensorlite.backends:cudnn",
    "torch.backends.mps": "tensorlite.backends:mps",
    "torch.backends.cuda": "tensorlite.backends:cuda",
    "torch.onnx": "tensorlite.onnx",
    "torch.distributed": "tensorlite.distributed",
}

_DATASETS = ("tensorlite has no dataset downloads; load local files with "
             "tensorlite.data.datasets (load_mnist, load_fashion_mnist, read_idx, load_text) or "
             "wrap numpy arrays in torch.utils.data.TensorDataset; image augmentation is in "
             "tensorlite.data.transforms")

# imports that are refused, with what to do instead ("torch.x" also covers "torch.x.y")
REFUSED: Dict[str, str] = {
    "torchvision": "torchvision is not part of tensorlite: " + _DATASETS + "; for models, "
                   "write them with torch.nn (see models/ for LeNet-5 and ResNet)",
    "torchtext": "torchtext is not part of tensorlite: tensorlite.data.text has a tokenizer, "
                 "normalisation and a Vocabulary (encode/decode); corpora load with "
                 "tensorlite.data.datasets",
    "torchaudio": "torchaudio is not part of tensorlite (no audio I/O or transforms)",
    "torch.jit": "TorchScript (torch.jit) is not supported: tensorlite runs eager Python only; "
                 "remove the torch.jit.script/trace call (save weights with torch.save("
                 "model.state_dict(), path))",
    "torch.cuda.amp": "mixed precision (torch.cuda.amp) needs CUDA and float16: tensorlite "
                      "computes on the CPU in float32/float64; drop autocast/GradScaler",
    "torch.amp": "mixed precision (torch.amp) is not supported: tensorlite computes in "
                 "float32/float64; drop autocast/GradScaler",
    "torch.nn.utils.rnn": "packed sequences (torch.nn.utils.rnn) are not supported: pad the "
                          "batch to one length and pick each sequence's last valid step",
    "torch.distributions": "torch.distributions is not supported: sample with torch.randn, "
                           "torch.rand, torch.multinomial, torch.bernoulli, torch.normal",
    "torch.fx": "torch.fx graph capture is not supported (eager execution only)",
    "torch.compiler": "torch.compiler is not supported (eager execution only)",
    "torch.multiprocessing": "torch.multiprocessing is not supported; for data-parallel "
                             "training see tensorlite.distributed (MPI)",
    "torch.hub": "torch.hub downloads are not supported: " + _DATASETS,
    "torch.profiler": "torch.profiler is not supported; use Python's cProfile",
    "torch.sparse": "sparse tensors are not supported",
    "torch.fft": "torch.fft is not supported; use numpy.fft on x.numpy()",
}

_GENERIC = ("not provided by tensorlite's PyTorch alias (see docs/pytorch-compat.md for what "
            "is)")

_saved: Optional[Dict[str, Any]] = None      # sys.modules entries set aside by install()
_finder: Optional["_RefusingFinder"] = None


def refusal(name: str) -> Optional[str]:
    """The reason an import of ``name`` is refused under the alias, or None."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        msg = REFUSED.get(".".join(parts[:k]))
        if msg is not None:
            return msg
    return None


class _RefusingFinder(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path`` while installed: ``torch.*`` names without an alias and
    the refused packages raise a ModuleNotFoundError naming them and the alternative."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        root = fullname.split(".", 1)[0]
        if root not in ("torch", "torchvision", "torchtext", "torchaudio"):
            return None
        if fullname in ALIASES:
            return None            # resolved from sys.modules; never reached once installed
        msg = refusal(fullname) or _GENERIC
        raise ModuleNotFoundError(f"{fullname}: {msg}", name=fullname)


def _resolve(target: str) -> Any:
    mod_name, _, attr = target.partition(":")
    try:
        mod = importlib.import_module(mod_name)
    except ModuleNotFoundError:
        return None            # an optional part (e.g. distributed without mpi4py)
    return getattr(mod, attr) if attr else mod


def _is_aliased_name(name: str) -> bool:
    return name.split(".", 1)[0] in ("torch", "torchvision", "torchtext", "torchaudio")


def missing(name: str) -> AttributeError:
    """The error for ``torch.<...>.name`` that the alias does not provide: an
    AttributeError (so ``hasattr`` keeps working) whose message names the PyTorch API and,
    for the known out-of-scope ones, what to do instead."""
    return AttributeError(f"{name}: " + (refusal(name) or _GENERIC))


class _Alias(types.ModuleType):
    """``torch.<sub>`` standing for a tensorlite module: attributes are the target's; a
    missing one is an AttributeError naming the PyTorch API."""

    def __init__(self, name: str, target: Any) -> None:
        super().__init__(name, getattr(target, "__doc__", None))
        self.__dict__["_target"] = target
        self.__dict__["__path__"] = []      # a package: `import torch.x.y` reaches the finder

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        try:
            return getattr(self.__dict__["_target"], attr)
        except AttributeError:
            raise missing(f"{self.__name__}.{attr}") from None

    def __dir__(self) -> list:
        return sorted(set(dir(self.__dict__["_target"])) | set(self.__dict__))

    def __repr__(self) -> str:
        return f"<module {self.__name__!r} (tensorlite alias of " \
               f"{getattr(self.__dict__['_target'], '__name__', '?')})>"


_modules: Optional[Dict[str, types.ModuleType]] = None


def modules() -> Dict[str, types.ModuleType]:
    """alias name -> module object, built once; each alias is also an attribute of its
    parent (``torch.nn.functional`` of ``torch.nn``)."""
    global _modules
    if _modules is None:
        from . import torch as facade
        built: Dict[str, types.ModuleType] = {"torch": facade}
        for alias, target in ALIASES.items():
            if alias == "torch":
                continue
            mod = _resolve(target)
            if mod is not None:
                built[alias] = _Alias(alias, mod)
        for alias, mod in built.items():
            parent, _, child = alias.rpartition(".")
            if parent in built:
                built[parent].__dict__[child] = mod
        _modules = built
    return _modules


def install() -> None:
    """Make ``import torch`` (and its submodules in ``ALIASES``) import tensorlite. A real
    PyTorch already imported is set aside until :func:`uninstall`. Idempotent."""
    global _saved, _finder
    if _saved is not None:
        return
    resolved = modules()
    _saved = {k: v for k, v in sys.modules.items() if _is_aliased_name(k)}
    for k in _saved:
        del sys.modules[k]
    sys.modules.update(resolved)
    _finder = _RefusingFinder()
    sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Undo :func:`install`: the aliases (and anything imported under ``torch.`` since)
    leave ``sys.modules``, a real PyTorch set aside comes back."""
    global _saved, _finder
    if _saved is None:
        return
    for k in [k for k in sys.modules if _is_aliased_name(k)]:
        del sys.modules[k]
    sys.modules.update(_saved)
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _saved = _finder = None


def is_installed() -> bool:
    return _saved is not None


@contextlib.contextmanager
def installed() -> Iterator[types.ModuleType]:
    """``with installed() as torch:`` the alias is active inside the block only."""
    was = is_installed()
    install()
    try:
        yield sys.modules["torch"]
    finally:
        if not was:
            uninstall()
