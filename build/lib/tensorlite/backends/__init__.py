"""``tl.backends``: the ``torch.backends.*`` flags scripts read or set, with the values of a
CPU-only PyTorch build.

``tl.backends.mps.is_available()`` and ``tl.backends.cuda.is_built()`` are False; the
cuDNN switches (``tl.backends.cudnn.benchmark = True``, ``deterministic``) are accepted
and have no effect, as on PyTorch without a GPU.
"""
from __future__ import annotations

import types

__all__ = ["cuda", "cudnn", "mps", "mkldnn", "openmp"]


def _false(*args, **kwargs) -> bool:
    return False


def _true(*args, **kwargs) -> bool:
    return True


def _namespace(name: str, doc: str, **attrs) -> types.ModuleType:
    mod = types.ModuleType(f"{__name__}.{name}", doc)
    mod.__dict__.update(attrs)
    return mod


mps = _namespace("mps", "Apple's GPU: not built, not available.",
                 is_available=_false, is_built=_false, is_macos_or_newer=_false)
cuda = _namespace("cuda", "CUDA: not built.", is_built=_false,
                  matmul=types.SimpleNamespace(allow_tf32=False,
                                               allow_fp16_reduced_precision_reduction=True))
cudnn = _namespace("cudnn", "cuDNN: not available; the switches are accepted and ignored.",
                   is_available=_false, version=lambda: None, enabled=True, benchmark=False,
                   deterministic=False, allow_tf32=True)
# The CPU libraries PyTorch links: numpy's BLAS and numba's threads stand in for them.
mkldnn = _namespace("mkldnn", "oneDNN: not used by tensorlite.", is_available=_false,
                    enabled=False)
openmp = _namespace("openmp", "OpenMP: tensorlite's kernels thread with numba.",
                    is_available=_true)
