"""``tl.onnx``: exists so that ``import torch.onnx`` works in PyTorch scripts, and refuses
export clearly.

tensorlite has no graph capture (no tracer, no TorchScript), which ONNX export needs.
To move a trained model elsewhere, save its weights with ``tl.save(model.state_dict(),
path)``: the file is a plain ``.npz`` archive that numpy (and so any framework) can read,
and a PyTorch model of the same architecture loads it by name.
"""
from __future__ import annotations

from typing import Any

from .._unsupported import UnsupportedError

__all__ = ["export", "dynamo_export", "is_in_onnx_export", "OnnxExporterError"]

_WHY = ("ONNX export is not supported: tensorlite has no graph capture; save the weights with "
        "tl.save(model.state_dict(), path) (a plain .npz archive) instead")


class OnnxExporterError(UnsupportedError):
    """Raised by every export entry point."""


def export(*args: Any, **kwargs: Any) -> None:
    raise OnnxExporterError(f"torch.onnx.export: {_WHY} (see docs/pytorch-compat.md)")


def dynamo_export(*args: Any, **kwargs: Any) -> None:
    raise OnnxExporterError(f"torch.onnx.dynamo_export: {_WHY} (see docs/pytorch-compat.md)")


def is_in_onnx_export() -> bool:
    return False
