"""tl.save / tl.load: exact round trips, never pickle, atomic writes."""
import os
import pickle
import zipfile

import numpy as np
import pytest

import tensorlite as tl


def test_nested_state_round_trips_exactly(tmp_path):
    obj = {
        "model": {"w": tl.tensor(np.arange(6.0).reshape(2, 3)), "b": tl.zeros(3)},
        "arrays": [np.array(3, np.int64), np.zeros((0, 2), np.float32), np.array([True, False])],
        "numbers": (1, 2.5, float("inf"), None, True),
        "text": "héllo ✓",
        "ünicode key": {"nested": {"deep": np.int64(7)}},
    }
    path = tmp_path / "state.npz"
    tl.save(obj, path)
    back = tl.load(path)
    assert list(back) == list(obj)
    assert isinstance(back["model"]["w"], tl.Tensor)
    np.testing.assert_array_equal(back["model"]["w"].numpy(), obj["model"]["w"].numpy())
    assert back["model"]["b"].dtype == tl.float32
    assert back["arrays"][0].dtype == np.int64 and back["arrays"][0].shape == ()
    assert back["arrays"][1].shape == (0, 2) and back["arrays"][1].dtype == np.float32
    assert back["arrays"][2].dtype == np.bool_
    assert back["numbers"] == (1, 2.5, float("inf"), None, True)
    assert back["text"] == "héllo ✓"
    assert back["ünicode key"]["nested"]["deep"] == 7


def test_object_arrays_are_refused_on_save():
    with pytest.raises(TypeError, match="dtype object"):
        tl.save({"x": np.array([{"a": 1}], dtype=object)}, "/tmp/never.npz")


def test_a_file_with_pickled_arrays_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, __header__=np.frombuffer(b'{"format": "tensorlite-state-1", "root": '
                                            b'{"$a": 0}}', np.uint8),
             a0=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="pickle|object"):
        tl.load(path)


def test_garbage_and_foreign_files_give_clear_errors(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="bad.npz"):
        tl.load(bad)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.ones(2))
    with pytest.raises(ValueError, match="not a tensorlite file"):
        tl.load(foreign)
    with pytest.raises(FileNotFoundError):
        tl.load(tmp_path / "missing.npz")


def test_write_is_atomic_a_failing_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    tl.save({"v": 1}, path)
    with pytest.raises(TypeError):
        tl.save({"v": 2, "bad": object()}, path)
    assert tl.load(path)["v"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]


def test_model_and_optimizer_checkpoint_round_trip(tmp_path):
    import nn
    tl.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    opt = tl.optim.Adam(model.parameters(), lr=0.01)
    x = tl.randn(5, 3)
    model(x).sum().backward()
    opt.step()
    tl.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "c.npz")
    ckpt = tl.load(tmp_path / "c.npz")
    model2 = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    model2.load_state_dict(ckpt["model"])
    for (k, a), (_, b) in zip(model.state_dict().items(), model2.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    opt2 = tl.optim.Adam(model2.parameters(), lr=0.01)
    opt2.load_state_dict(ckpt["opt"])
    assert opt2.state_dict()["state"][0]["step"] == 1
