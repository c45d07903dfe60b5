"""The hot kernel loops compile to vector code for an AVX2 CPU and for this one (issue 18).

No timing: the check reads the LLVM IR numba generates (benchmarks/vectorisation.py). Each
kernel is compiled afresh in a child process for the target, so a loop that a change made
scalar, or vector but built of gathers or masked stores, fails here on any machine,
whatever CPU the suite runs on.
"""
import numpy as np
import pytest
from numba import njit

from benchmarks import vectorisation as V


@pytest.fixture(scope="module", params=["avx2", "haswell"])
def avx2(request):
    # Zen 3's and Haswell's feature sets and tuning: both AVX2, no AVX-512.
    return V.inspect(request.param)


@pytest.fixture(scope="module")
def host():
    return V.inspect("host")


def _failures(result, lanes):
    return [f"{k['kernel']} ({k['function']}): {k['width']} float32 lanes, "
            f"{k['slow']} gathers/scatters/masked stores"
            for k in result["kernels"]
            if k["width"] is None or k["width"] < lanes or k["slow"]]


def test_hot_loops_use_full_avx2_vectors(avx2):
    assert avx2["isa"] == "AVX2"
    assert _failures(avx2, 8) == []


def test_hot_loops_use_the_hosts_widest_vectors(host):
    lanes = {"AVX-512": 16, "AVX2": 8, "AVX": 8}.get(host["isa"], 4)
    assert _failures(host, lanes) == []


def test_the_check_sees_a_scalar_loop():
    # A loop with an early exit cannot be vectorised: the report must say width 1.
    @njit(error_model="numpy")
    def first_positive(x):
        for i in range(x.shape[0]):
            if x[i] > 0:
                return i
        return -1

    x = np.zeros(8, np.float32)
    first_positive(x)
    assert V.report(first_positive, first_positive.signatures[0], "first_positive")["width"] == 1


def test_the_check_sees_a_gather():
    # numba wraps negative indices: x[i + k] with a run-time k becomes a gather.
    @njit(error_model="numpy")
    def shifted_sum(x, out, k):
        for i in range(out.shape[0]):
            out[i] = x[i + k] + x[i]

    x, out = np.zeros(16, np.float32), np.zeros(8, np.float32)
    shifted_sum(x, out, 1)
    r = V.report(shifted_sum, shifted_sum.signatures[0], "shifted_sum")
    assert r["slow"] > 0 or r["width"] == 1
