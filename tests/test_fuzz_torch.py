"""Differential fuzzing of every op in the database against PyTorch (tensorlite/testing/
fuzz.py): perturbed shapes (0-size, size-1 broadcast), float32/float64, non-contiguous and
expanded inputs, special values (+-0, +-inf, NaN, huge, tiny, ties); forward values,
gradients for a random upstream gradient, and agreement on raising.

Profiles (tests/conftest.py): TENSORLITE_FUZZ_PROFILE=fuzz-ci (default, derandomised,
bounded) or fuzz-nightly (random, many more cases). Skipped without PyTorch.
"""
import os
import warnings

import pytest
from hypothesis import given, settings, strategies as st

from tensorlite.testing.fuzz import compare, fuzz_cases
from tensorlite.testing.opinfo import op_db

torch = pytest.importorskip("torch")

PROFILE = settings.get_profile(os.environ.get("TENSORLITE_FUZZ_PROFILE", "fuzz-ci"))

OPS = [pytest.param(info, id=info.name,
                    marks=[pytest.mark.xfail(reason=info.fuzz_known, strict=False)]
                    if info.fuzz_known else [])
       for info in op_db if info.torch_fn is not None]


@pytest.mark.parametrize("info", OPS)
@settings(PROFILE)
@given(data=st.data())
def test_fuzz_against_pytorch(info, data):
    case = data.draw(fuzz_cases(info), label="case")
    with warnings.catch_warnings():
        # inf/NaN inputs make numpy and PyTorch warn; the values are what is compared
        warnings.simplefilter("ignore")
        compare(info, case, torch)


# -- the fuzzer itself catches what it is for --------------------------------------------
def _entry(op, torch_fn, **kw):
    import numpy as np
    from tensorlite.testing.opinfo import OpInfo, unary_samples
    return OpInfo("planted", op, np.abs, unary_samples(), (), torch_fn, **kw)


def _case(*args):
    import numpy as np
    from tensorlite.testing.fuzz import FuzzCase
    return FuzzCase(tuple(np.asarray(a, dtype=np.float64) for a in args), {},
                    ("contiguous",) * len(args), np.dtype(np.float64), "planted")


def test_fuzzer_reports_a_wrong_value_a_wrong_gradient_and_a_missing_error():
    import numpy as np
    import tensorlite as tl
    from tensorlite.testing.fuzz import FuzzMismatch

    nan_to_zero = _entry(lambda x: tl.where(x != x, 0.0, x).abs(), lambda t, x: x.abs())
    with pytest.raises(FuzzMismatch, match="planted output 0: 1 of 2 elements differ"):
        compare(nan_to_zero, _case([1.0, np.nan]), torch)
    grad_lost = _entry(lambda x: x.detach().abs() + 0 * x, lambda t, x: x.abs())
    with pytest.raises(FuzzMismatch, match="planted gradient of input 0"):
        compare(grad_lost, _case([1.0, -2.0]), torch)

    def torch_refuses(t, x):
        raise RuntimeError("planted refusal")
    with pytest.raises(FuzzMismatch, match="PyTorch raises .*planted refusal.* tensorlite "
                                           "returns a value"):
        compare(_entry(lambda x: x.abs(), torch_refuses), _case([1.0]), torch)


def test_fuzzer_accepts_a_refusal_only_when_the_entry_documents_it():
    import tensorlite as tl
    from tensorlite.testing.fuzz import FuzzMismatch

    def refuse(x):
        raise ValueError("planted: negative input refused")
    with pytest.raises(FuzzMismatch, match="fuzz_refusals give no reason"):
        compare(_entry(refuse, lambda t, x: x.abs()), _case([-1.0]), torch)
    documented = _entry(refuse, lambda t, x: x.abs(), fuzz_refusals=("negative input",))
    compare(documented, _case([-1.0]), torch)
    assert tl is not None
