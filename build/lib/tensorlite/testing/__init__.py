"""Testing tools: gradient checks and the op database (see docs/extending.md)."""
from .gradcheck import GradcheckError, gradcheck, gradgradcheck


def __getattr__(name):
    if name in ("OpInfo", "SampleInput", "op_db", "register"):
        from . import opinfo
        return getattr(opinfo, name)
    raise AttributeError(name)
