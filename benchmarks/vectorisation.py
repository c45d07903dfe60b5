"""Does each hot kernel loop compile to vector code? Checked in LLVM IR, for any target CPU.

    python -m benchmarks.vectorisation                 # host and avx2 (Zen 3) targets
    python -m benchmarks.vectorisation --target avx2   # one target (or haswell)
    python -m benchmarks.vectorisation --asm           # also count ymm/zmm instructions

A loop LLVM vectorised carries vector types in its IR: ``<8 x float>`` is one AVX2 register
of float32 (a ymm register in the machine code), ``<16 x float>`` one AVX-512 register.
For each kernel below this compiles its float32 signature afresh for the target (in a
child process with the target's NUMBA_CPU_NAME/FEATURES, caching off, so nothing comes
from the on-disk cache) and reports the widest float vector used by arithmetic, compare or
select instructions of that function. A scalar loop shows width 1. It also counts the
vector instructions that are slow on AVX2 CPUs even though they are vector code: gathers,
scatters (numba's negative-index wraparound on ``a[i + k]`` produces them) and masked
stores (a value stored back only where a condition holds; microcoded on AMD).

``tests/kernels/test_vectorisation.py`` fails when a kernel listed here drops below 8
float32 lanes on the AVX2 target (16 on the host when it has AVX-512) or uses one of those
slow instructions: a branch, call or wrapped index added to one of these loops silently
costs 4-30x there (issue 18), and no timing test is stable on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (label, module, function, argument builder): the loops where the time goes. Arguments are
# built from numpy arrays so the compiled signature is the one the callers use.
KERNELS = [
    ("max_pool2d forward, 2x2 stride 2", "pool", "_max_pairs", "f1 i i f1 i1"),
    ("max_pool2d forward, any window", "pool", "_max_step", "f1 f1 i1 f1 i1 i0"),
    ("embedding backward (row add)", "embedding", "_add_row", "f1 f1"),
    ("cross-entropy: row max", "loss", "_row_max", "f1 f1"),
    ("cross-entropy: exp", "loss", "_exp_prepare", "f1 f0 f1 i1"),
    ("cross-entropy: sum of exp", "loss", "_sum_scaled", "f1 f1"),
    ("cross-entropy backward: softmax - onehot", "loss", "_ce_grad_row", "f1 f1 f0 f0"),
    ("log_softmax: x - lse", "loss", "_sub_scalar", "f1 f1 f0"),
    ("relu backward", "activation", "_relu_backward", "f1 f1 f1"),
    ("dropout mask", "activation", "_dropout_mask", "f1 f1 f0 f0"),
]


def _args(spec: str):
    import numpy as np
    out = []
    for code in spec.split():
        if code == "i":
            out.append(np.int64(1))
        elif code == "i0":
            out.append(np.int32(1))
        elif code == "f0":
            out.append(np.float32(1))
        else:
            dtype = {"f": np.float32, "u": np.uint8, "i": np.int32}[code[0]]
            out.append(np.zeros((4,) * int(code[1]), dtype=dtype))
    return out


_VEC = re.compile(r"<(\d+) x (float|double)>")
_OPS = re.compile(r"\b(fcmp|select|fadd|fsub|fmul|fdiv|fneg|call <)\b")


def _function_ir(ir: str, name: str) -> str:
    """The body of the numba function ``name`` (not its Python wrappers) in module IR."""
    tag = f"{len(name)}{name}"
    out, inside = [], False
    for line in ir.splitlines():
        if line.startswith("define"):
            inside = tag in line and "@cpython." not in line and "@cfunc." not in line
        if inside:
            out.append(line)
            if line.startswith("}"):
                inside = False
    return "\n".join(out)


def report(disp, sig, name: str) -> dict:
    """{'width', 'slow'} of the compiled function ``name`` of dispatcher disp at sig: the
    widest float vector its arithmetic/compare/select instructions use (1: scalar), and
    how many gathers, scatters and masked stores it contains."""
    body = _function_ir(disp.inspect_llvm(sig), name)
    if not body:
        raise LookupError(f"{name} not found in the IR of {disp}")
    width = 1
    for line in body.splitlines():
        if _OPS.search(line):
            for m in _VEC.finditer(line):
                width = max(width, int(m.group(1)))
    # Vector code that is still slow: gathers and scatters (one element at a time on
    # AVX2) and masked stores (microcoded on AMD CPUs).
    slow = len(re.findall(r"@llvm\.masked\.(?:store|gather|scatter)", body))
    return {"width": width, "slow": slow}


def _inspect(asm: bool) -> list:
    """In this process: compile every kernel afresh and measure its vector width."""
    import importlib
    import numba
    from numba.core.caching import NullCache
    rows = []
    for label, module, func, spec in KERNELS:
        mod = importlib.import_module(f"tensorlite.kernels.{module}")
        disp = getattr(mod, func, None)
        if disp is None:
            rows.append({"kernel": label, "function": f"{module}.{func}", "width": None,
                         "slow": None})
            continue
        disp._cache = NullCache()  # compile now, for this target, even if a cache exists
        sig = tuple(numba.typeof(a) for a in _args(spec))
        disp.compile(sig)
        row = {"kernel": label, "function": f"{module}.{func}", **report(disp, sig, func)}
        if asm:
            text = disp.inspect_asm(sig)
            row["ymm"] = len(re.findall(r"%ymm\d+", text))
            row["zmm"] = len(re.findall(r"%zmm\d+", text))
        rows.append(row)
    return rows


def inspect(target: str, asm: bool = False) -> dict:
    """{'cpu', 'isa', 'kernels': [{kernel, function, width[, ymm, zmm]}]} for target."""
    sys.path.insert(0, ROOT)
    from benchmarks import machine
    env = dict(os.environ, **machine.target_env(target))
    if target == "host":
        env.pop("NUMBA_CPU_NAME", None)
        env.pop("NUMBA_CPU_FEATURES", None)
    code = ("import json, sys; from benchmarks.vectorisation import _inspect; "
            "from benchmarks.machine import describe; d = describe(); "
            f"print(json.dumps({{'cpu': d['numba_cpu'], 'isa': d['numba_isa'], "
            f"'kernels': _inspect({asm!r})}}))")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"compiling the kernels for {target} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", action="append", choices=["host", "avx2", "haswell"])
    p.add_argument("--asm", action="store_true", help="also count ymm/zmm registers in the asm")
    args = p.parse_args(argv)
    for target in args.target or ["host", "avx2"]:
        r = inspect(target, args.asm)
        print(f"\n{target}: numba compiles for {r['cpu']} ({r['isa']})")
        print(f"  {'kernel':44s} {'float32 lanes':>13s} {'slow ops':>8s}"
              + ("   ymm   zmm" if args.asm else ""))
        for k in r["kernels"]:
            w = "missing" if k["width"] is None else str(k["width"])
            extra = f" {k['ymm']:5d} {k['zmm']:5d}" if args.asm and "ymm" in k else ""
            print(f"  {k['kernel']:44s} {w:>13s} {k.get('slow', '-')!s:>8s}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
