"""`python -m models train lenet --nproc 2`: two MPI ranks train as one process would on
the same global batch; rank 0 alone prints and writes; --resume continues the run."""
import importlib.util
import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from tensorlite.distributed import launch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None,
                       reason='mpi4py is not installed (pip install -e ".[distributed]")'),
    pytest.mark.skipif(launch.find_mpirun() is None,
                       reason='mpirun not found (pip install -e ".[distributed]" brings Open MPI)'),
]


def write_noisy_mnist(root, n_train, n_test):
    """MNIST-shaped IDX files: noise plus a faint bar whose row gives the class, so that
    LeNet learns over some steps rather than in one."""
    def idx(arr):
        return bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()
    rng = np.random.default_rng(0)
    os.makedirs(root, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 200, (n, 28, 28)).astype(np.uint8)
        for d in range(10):
            images[labels == d, 2 * d:2 * d + 4, 8:20] += 50
        for kind, arr in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            with open(os.path.join(root, f"{prefix}-{kind}"), "wb") as f:
                f.write(idx(arr))
    return str(root)


def train(args, timeout=400):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("NUMBA_NUM_THREADS", None)
    try:
        res = subprocess.run([sys.executable, "-m", "models", "train", "lenet", "--no-progress",
                              *args], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"`models train {' '.join(args)}` hung (killed after {timeout} s): {err.stdout}")
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def metrics(out):
    with open(os.path.join(out, "metrics.json")) as f:
        return json.load(f)


def test_two_ranks_train_lenet_as_one_process_with_the_same_global_batch(tmp_path):
    # load_mnist keeps the last 10,000 training images for validation; --limit 1600 leaves
    # 1600 for training: 50 steps of a global batch of 32 per epoch, 100 in all.
    data = write_noisy_mnist(tmp_path / "mnist", 10_000 + 1600, 200)
    common = ["--data", data, "--limit", "1600", "--lr", "0.002"]
    one = str(tmp_path / "one")
    train(common + ["--out", one, "--epochs", "2", "--batch-size", "32"])
    two = str(tmp_path / "two")
    printed = train(common + ["--out", two, "--epochs", "1", "--batch-size", "16", "--nproc", "2"])
    # Only rank 0 prints: one summary line and one test line, and it names the split.
    assert printed.count("epoch   1 |") == 1 and printed.count("test: ") == 1, printed
    assert "2 processes x --batch-size 16 = global batch 32" in printed
    # The second epoch from the first's checkpoint, again on two ranks.
    printed = train(common + ["--out", two, "--epochs", "2", "--batch-size", "16", "--nproc", "2",
                              "--resume", os.path.join(two, "last.npz")])
    assert printed.count("epoch   2 |") == 1
    a, b = metrics(one), metrics(two)
    assert [r["epoch"] for r in b] == [1, 2]
    # The same global batches in the same order: the same losses up to float32 rounding
    # (a batch's gradient is summed in two halves instead of at once).
    assert a[0]["train_loss"] > 1.5 * a[1]["train_loss"]  # it did learn
    for ra, rb in zip(a, b):
        for key in ("train_loss", "val_loss"):
            assert rb[key] == pytest.approx(ra[key], rel=2e-3), (key, ra, rb)
    for name in ("best.npz", "last.npz", "test.json", "metrics.csv"):
        assert os.path.exists(os.path.join(two, name))
    assert not [f for f in os.listdir(two) if ".tmp" in f]
