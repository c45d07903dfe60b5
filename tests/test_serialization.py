"""tl.save / tl.load: exact round trips, never pickle, clear errors for damaged files,
atomic writes."""
import json
import os
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import tensorlite as tl
from tensorlite import serialization


def _round_trip(obj, tmp_path, name="state.npz"):
    path = tmp_path / name
    tl.save(obj, path)
    return tl.load(path)


def _assert_same_array(a, b):
    assert type(a) is type(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


ARRAYS = {
    "int64": np.arange(-3, 9, dtype=np.int64).reshape(3, 4),
    "float32": np.linspace(-1, 1, 7, dtype=np.float32),
    "float64": np.array([np.pi, -0.0, 1e-300, np.inf, -np.inf, np.nan]),
    "bool": np.array([[True, False], [False, True]]),
    "uint8": np.arange(256, dtype=np.uint8),
    "int32": np.array([2 ** 31 - 1, -2 ** 31], dtype=np.int32),
    "float16": np.array([0.5, 65504.0], dtype=np.float16),
    "complex128": np.array([1 + 2j, -3.5j]),
    "0-d": np.array(7.25),
    "0-d int": np.array(-4, dtype=np.int64),
    "empty": np.zeros((0, 3), np.float32),
    "empty 1-d": np.array([], dtype=np.int64),
}


@pytest.mark.parametrize("name", list(ARRAYS))
def test_arrays_and_tensors_round_trip_with_exact_dtype_shape_and_values(name, tmp_path):
    a = ARRAYS[name]
    try:
        tensor = tl.from_numpy(a.copy())
    except TypeError:  # a dtype Tensors do not support (complex, float16): arrays only
        tensor = None
    back = _round_trip({"array": a, "tensor": tensor}, tmp_path)
    _assert_same_array(back["array"], a)
    if tensor is None:
        return
    t = back["tensor"]
    assert isinstance(t, tl.Tensor) and not t.requires_grad and t.grad_fn is None
    _assert_same_array(t._data, a)


def test_a_nested_state_dict_round_trips_exactly(tmp_path):
    obj = {
        "model": OrderedDict([("layer.weight", tl.randn(3, 2)),
                              ("layer.bias", tl.zeros(3, dtype=tl.float64)),
                              ("bn.num_batches_tracked", tl.tensor(5))]),
        "optimizer": {"state": {0: {"step": 3, "exp_avg": tl.ones(2)}, 2: {}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1, 2],
                                        "nesterov": False, "name": None}]},
        "numbers": [0, -1, 2 ** 80, 1.5, -0.0, 1e-320, float("inf"), float("-inf"), True,
                    False, None],
        "strings": ["", "plain", "héllo ✓ 日本語 🎉", "line\nbreak \"quoted\" \\ $dict"],
        "ünïcode kéy ✓": {"": "empty key", "$tensor": "a key that looks like a tag"},
        "tuples": (1, (2, (3, [4, (5,)])), ()),
        "numpy scalars": [np.float32(0.1), np.float64(0.2), np.int64(-7), np.bool_(True),
                          np.uint8(255)],
        "empty": [{}, [], ()],
    }
    back = _round_trip(obj, tmp_path)
    assert list(back) == list(obj)
    assert type(back["model"]) is OrderedDict and list(back["model"]) == list(obj["model"])
    for k, t in obj["model"].items():
        _assert_same_array(back["model"][k]._data, t._data)
    opt = back["optimizer"]
    assert list(opt["state"]) == [0, 2] and opt["state"][0]["step"] == 3
    assert opt["param_groups"][0]["betas"] == (0.9, 0.999)
    assert opt["param_groups"][0]["params"] == [0, 1, 2]
    assert back["numbers"] == obj["numbers"]
    assert [type(x) for x in back["numbers"]] == [type(x) for x in obj["numbers"]]
    assert str(back["numbers"][4]) == "-0.0"
    assert back["strings"] == obj["strings"]
    assert back["ünïcode kéy ✓"] == obj["ünïcode kéy ✓"]
    assert back["tuples"] == obj["tuples"] and isinstance(back["tuples"][1][1], tuple)
    for a, b in zip(back["numpy scalars"], obj["numpy scalars"]):
        assert type(a) is type(b) and a == b
    assert back["empty"] == [{}, [], ()]


def test_nan_round_trips(tmp_path):
    back = _round_trip({"x": float("nan")}, tmp_path)
    assert isinstance(back["x"], float) and back["x"] != back["x"]


def test_non_contiguous_arrays_round_trip(tmp_path):
    a = np.arange(24.0).reshape(4, 6)
    back = _round_trip([a[:, ::2], a.T, np.asfortranarray(a)], tmp_path)
    for b, ref in zip(back, [a[:, ::2], a.T, a]):
        np.testing.assert_array_equal(b, ref)


def test_one_array_saved_twice_is_one_array_after_loading(tmp_path):
    a = np.arange(3.0)
    back = _round_trip({"x": a, "y": a, "t": tl.from_numpy(a)}, tmp_path)
    assert back["x"] is back["y"] and back["t"]._data is back["x"]
    assert len(zipfile.ZipFile(tmp_path / "state.npz").namelist()) == 2  # a0 + header


def test_tensors_requiring_grad_are_saved_as_their_values(tmp_path):
    w = tl.randn(2, 2, requires_grad=True)
    y = w * 2
    back = _round_trip({"w": w, "y": y}, tmp_path)
    assert not back["w"].requires_grad and back["y"].grad_fn is None
    np.testing.assert_array_equal(back["y"].numpy(), y.detach().numpy())


def test_the_file_is_an_npz_of_numbered_arrays_and_a_json_header(tmp_path):
    path = tmp_path / "model.pt"  # written as named: no suffix added
    tl.save({"w": tl.ones(2), "n": 3}, path)
    assert os.listdir(tmp_path) == ["model.pt"]
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["a0", "header"]
        assert npz["header"].dtype == np.uint8
        header = json.loads(npz["header"].tobytes())
    assert header["format"] == "tensorlite" and header["version"] == 1
    assert header["root"] == {"$dict": [["w", {"$tensor": 0, "dtype": "<f4", "shape": [2]}],
                                        ["n", 3]]}
    with zipfile.ZipFile(path) as z:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())


def test_a_model_and_optimizer_checkpoint_restores_training_exactly(tmp_path):
    rng = np.random.default_rng(0)
    x, y = tl.tensor(rng.standard_normal((16, 3))), tl.tensor(rng.standard_normal((16, 1)))

    def make(state):
        params = OrderedDict((k, tl.tensor(v.copy(), requires_grad=True))
                             for k, v in state.items())
        opt = tl.optim.Adam(params.values(), lr=0.05, amsgrad=True)
        return params, opt, tl.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    def train(params, opt, sched, epochs):
        for _ in range(epochs):
            opt.zero_grad()
            h = (x @ params["fc1.weight"] + params["fc1.bias"]).tanh()
            ((h @ params["fc2.weight"] - y) ** 2).mean().backward()
            opt.step()
            sched.step()

    init = {"fc1.weight": rng.standard_normal((3, 4)), "fc1.bias": np.zeros(4),
            "fc2.weight": rng.standard_normal((4, 1))}
    params, opt, sched = make(init)
    train(params, opt, sched, 3)
    path = tmp_path / "ckpt.npz"
    tl.save({"model": OrderedDict((k, p.detach()) for k, p in params.items()),
             "buffers": {"running_mean": np.zeros(4, np.float32), "count": np.int64(3)},
             "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "epoch": 3}, path)
    ckpt = tl.load(path)
    params2, opt2, sched2 = make({k: t.numpy() for k, t in ckpt["model"].items()})
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    assert ckpt["epoch"] == 3 and ckpt["buffers"]["count"] == 3
    train(params, opt, sched, 4)
    train(params2, opt2, sched2, 4)
    for k in params:
        np.testing.assert_array_equal(params[k].numpy(), params2[k].numpy(), err_msg=k)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


# -- refusing what is not plain data ------------------------------------------------------
@pytest.mark.parametrize("obj, exc, match", [
    ({"x": np.array([{"a": 1}], dtype=object)}, TypeError, r"at obj\['x'\] has dtype object"),
    ({"x": np.array(["text"])}, TypeError, "dtype <U4"),
    ({"x": np.zeros(2, dtype=[("a", "f4")])}, TypeError, "only bool, integer"),
    ({"x": {1, 2}}, TypeError, r"type set at obj\['x'\]"),
    ({"x": [1, object()]}, TypeError, r"type object at obj\['x'\]\[1\]"),
    ({"f": len}, TypeError, "builtin_function_or_method"),
    ({(1, 2): 3}, TypeError, "dict keys must be str or int"),
    ({True: 3}, TypeError, "dict keys must be str or int"),
    ({"c": 1 + 2j}, TypeError, "type complex"),
])
def test_unsupported_objects_are_refused_before_anything_is_written(obj, exc, match, tmp_path):
    with pytest.raises(exc, match=match):
        tl.save(obj, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_a_circular_structure_is_refused(tmp_path):
    d = {"a": []}
    d["a"].append(d)
    with pytest.raises(ValueError, match="circular reference"):
        tl.save(d, tmp_path / "x.npz")


class _Exploit:
    """Unpickling this object would create a marker file: it must never happen."""
    marker = None

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _write_npz(path, header, **arrays):
    blob = json.dumps(header).encode() if isinstance(header, dict) else header
    np.savez(path, header=np.frombuffer(blob, np.uint8), **arrays)


@pytest.mark.parametrize("referenced", [True, False])
def test_a_file_holding_a_pickled_object_array_is_refused_without_unpickling(referenced,
                                                                             tmp_path):
    _Exploit.marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = _Exploit()
    root = {"$array": 0, "dtype": "|O", "shape": [1]} if referenced else 1
    path = tmp_path / "evil.npz"
    _write_npz(path, {"format": "tensorlite", "version": 1, "arrays": 1, "root": root}, a0=evil)
    with pytest.raises(ValueError, match=r"evil\.npz.*object array.*refusing"):
        tl.load(path)
    assert not _Exploit.marker.exists()


def test_a_pickle_file_is_refused_without_unpickling(tmp_path):
    import pickle
    _Exploit.marker = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"w": _Exploit()}))
    with pytest.raises(ValueError, match=r"model\.pkl"):
        tl.load(path)
    assert not _Exploit.marker.exists()


def _valid(tmp_path):
    path = tmp_path / "good.npz"
    tl.save({"w": tl.randn(4, 5), "i": np.arange(10), "meta": {"epoch": 3}}, path)
    return path


HEADER = {"format": "tensorlite", "version": 1, "arrays": 1,
          "root": {"$array": 0, "dtype": "<f8", "shape": [3]}}


@pytest.mark.parametrize("make, match", [
    (lambda p: p.write_bytes(b""), "not a readable tensorlite file"),
    (lambda p: p.write_bytes(b"PK\x03\x04 truncated zip"), "not a readable tensorlite file"),
    (lambda p: p.write_bytes(os.urandom(3000)), "not a readable tensorlite file"),
    (lambda p: np.savez(p, x=np.ones(2)), "not a tensorlite file"),
    (lambda p: np.save(open(p, "wb"), np.ones(3)), "single .npy array"),
    (lambda p: _write_npz(p, b"{not json", a0=np.ones(3)), "JSONDecodeError"),
    (lambda p: _write_npz(p, {**HEADER, "format": "other"}, a0=np.ones(3)), "not a tensorlite"),
    (lambda p: _write_npz(p, {**HEADER, "version": 99}, a0=np.ones(3)), "newer tensorlite"),
    (lambda p: _write_npz(p, HEADER), r"lists 1 arrays, the archive holds 0"),
    (lambda p: _write_npz(p, {**HEADER, "arrays": 10 ** 12}, a0=np.ones(3)), "lists 1000000"),
    (lambda p: _write_npz(p, HEADER, b=np.ones(3)), r"unexpected: b; missing: a0"),
    (lambda p: _write_npz(p, {**HEADER, "root": {"$array": 5}}, a0=np.ones(3)),
     "refers to array 5"),
    (lambda p: _write_npz(p, HEADER, a0=np.ones(3, np.float32)), "the header says <f8"),
    (lambda p: _write_npz(p, HEADER, a0=np.ones(4)), r"the header says <f8 \[3\]"),
    (lambda p: _write_npz(p, {**HEADER, "root": {"$eval": "os.system('x')"}}, a0=np.ones(3)),
     "unknown entry"),
    (lambda p: _write_npz(p, {**HEADER, "root": {"$dict": [[1.5, 2]]}}, a0=np.ones(3)),
     "malformed dict"),
    (lambda p: _write_npz(p, b'{"format": "tensorlite", "version": 1, "arrays": 0, '
                             b'"root": NaN}'), "JSON constant NaN"),
])
def test_damaged_or_foreign_files_are_a_value_error_naming_the_path(make, match, tmp_path):
    path = tmp_path / "damaged.npz"
    make(path)
    with pytest.raises(ValueError, match=match) as info:
        tl.load(path)
    assert str(path) in str(info.value)


def test_a_forged_huge_shape_is_refused_before_allocating(tmp_path):
    # A well-formed zip (correct CRCs) whose npy header claims 8 TB for 160 stored bytes.
    import io
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        npy, {"descr": "<f8", "fortran_order": False, "shape": (10 ** 6, 10 ** 6)})
    npy.write(np.ones(20).tobytes())
    header = {**HEADER, "root": {"$array": 0, "dtype": "<f8", "shape": [10 ** 6, 10 ** 6]}}
    path = tmp_path / "forged.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("header.npy", _npy(np.frombuffer(json.dumps(header).encode(), np.uint8)))
        z.writestr("a0.npy", npy.getvalue())
    with pytest.raises(ValueError, match=r"forged\.npz.*truncated or corrupt"):
        tl.load(path)


def _npy(a):
    import io
    f = io.BytesIO()
    np.save(f, a)
    return f.getvalue()


def test_every_truncation_of_a_file_is_a_value_error(tmp_path):
    data = _valid(tmp_path).read_bytes()
    cut = tmp_path / "cut.npz"
    for n in list(range(0, len(data), max(1, len(data) // 97))) + [len(data) - 1]:
        cut.write_bytes(data[:n])
        with pytest.raises(ValueError, match="cut.npz"):
            tl.load(cut)


def test_corrupted_bytes_give_a_value_error_or_the_original_data(tmp_path):
    path = _valid(tmp_path)
    good = tl.load(path)
    data = path.read_bytes()
    bad = tmp_path / "bad.npz"
    rng = np.random.default_rng(0)
    for pos in rng.choice(len(data), size=150, replace=False):
        flipped = bytearray(data)
        flipped[pos] ^= 0xFF
        bad.write_bytes(bytes(flipped))
        try:
            back = tl.load(bad)
        except ValueError as e:
            assert "bad.npz" in str(e)
        else:  # a byte the format does not check (zip metadata): the data must be intact
            np.testing.assert_array_equal(back["w"].numpy(), good["w"].numpy())
            np.testing.assert_array_equal(back["i"], good["i"])
            assert back["meta"] == good["meta"]


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        tl.load(tmp_path / "missing.npz")


def test_saving_into_a_missing_directory_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tl.save({"a": 1}, tmp_path / "no" / "such" / "dir.npz")


# -- atomic writes ------------------------------------------------------------------------
def test_a_write_that_fails_midway_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    tl.save({"v": 1, "w": np.arange(5)}, path)
    before = path.read_bytes()
    real_savez = np.savez

    def savez_then_fail(f, *args, **kw):
        real_savez(f, *args, **kw)
        f.write(b"partial garbage")
        raise OSError("disk full")

    monkeypatch.setattr(serialization.np, "savez", savez_then_fail)
    with pytest.raises(OSError, match="disk full"):
        tl.save({"v": 2, "w": np.arange(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and tl.load(path)["v"] == 1
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary file left behind


def test_a_failing_rename_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    tl.save({"v": 1}, path)

    def fail(*args):
        raise PermissionError("rename refused")

    monkeypatch.setattr(serialization.os, "replace", fail)
    with pytest.raises(PermissionError):
        tl.save({"v": 2}, path)
    monkeypatch.undo()
    assert tl.load(path)["v"] == 1 and os.listdir(tmp_path) == ["ckpt.npz"]


def test_an_unsaveable_object_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "ckpt.npz"
    tl.save({"v": 1}, path)
    with pytest.raises(TypeError):
        tl.save({"v": 2, "bad": object()}, path)
    assert tl.load(path)["v"] == 1 and os.listdir(tmp_path) == ["ckpt.npz"]


def test_the_write_is_synced_then_renamed_over_the_target(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(serialization.os, "fsync",
                        lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(serialization.os, "replace",
                        lambda a, b: (calls.append(("replace", os.path.dirname(a))),
                                      real_replace(a, b))[1])
    tl.save({"v": 1}, tmp_path / "x.npz")
    assert calls[0] == "fsync" and calls[1] == ("replace", str(tmp_path))


def test_saved_files_get_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        tl.save({"v": 1}, tmp_path / "x.npz")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "x.npz").st_mode & 0o777 == 0o644


def test_saving_through_a_symlink_replaces_its_target(tmp_path):
    target = tmp_path / "real.npz"
    tl.save({"v": 1}, target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    tl.save({"v": 2}, link)
    assert link.is_symlink() and tl.load(target)["v"] == 2
