"""PyTorch CPU scripts in the style of the commonest public ones, each run unchanged twice:
under PyTorch, and under tensorlite's alias (``tensorlite.compat``: ``import torch`` gives
tensorlite). Data come from numpy with fixed seeds and the weights are set from numpy, so
both runs see the same numbers; the results each script records in ``RESULTS`` (losses,
accuracies, generated ids, ...) must agree within the script's ``TOLERANCE`` (close in
float64, looser in float32).
"""
import glob
import os
import runpy
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tensorlite import compat  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = sorted(glob.glob(os.path.join(HERE, "scripts", "*.py")))


def _run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [path])
    return runpy.run_path(path, run_name="__main__")


def _compare(ours, theirs, tol, where=""):
    if isinstance(theirs, dict):
        assert sorted(ours) == sorted(theirs), where
        for k in theirs:
            _compare(ours[k], theirs[k], tol, f"{where}/{k}")
    elif isinstance(theirs, (list, tuple)) and theirs and isinstance(theirs[0], str):
        assert list(ours) == list(theirs), where
    elif isinstance(theirs, (list, tuple)) and any(isinstance(t, (list, tuple, dict))
                                                   for t in theirs):
        assert len(ours) == len(theirs), where
        for k, (o, t) in enumerate(zip(ours, theirs)):
            _compare(o, t, tol, f"{where}[{k}]")
    else:
        a, b = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
        assert a.shape == b.shape, f"{where}: shapes {a.shape} vs {b.shape}"
        np.testing.assert_allclose(a, b, err_msg=where, **tol)


@pytest.mark.parametrize("path", SCRIPTS, ids=[os.path.basename(p)[:-3] for p in SCRIPTS])
def test_script_runs_unchanged_and_tracks_pytorch(path, tmp_path, monkeypatch):
    import torch.nn  # noqa: F401  (the real PyTorch is loaded before the alias sets it aside)
    theirs = _run(path, tmp_path, monkeypatch)
    assert theirs["torch"] is torch
    with compat.installed():
        ours = _run(path, tmp_path, monkeypatch)
        assert ours["torch"] is sys.modules["torch"]
    assert sys.modules["torch"] is torch           # PyTorch is back
    assert theirs["RESULTS"], "the script recorded nothing"
    _compare(ours["RESULTS"], theirs["RESULTS"], theirs["TOLERANCE"])
