"""What a benchmark figure was measured on, and how to measure for another CPU.

A ratio to PyTorch means little without the machine: the same kernel ran 0.12x PyTorch on
an AVX-512 CPU and 1.07x on an AVX2 one (issue 18). ``describe()`` records the CPU model,
the CPU and vector ISA numba compiles for (``numba -s`` shows the same), numba's thread
count, each BLAS library in use (``threadpoolctl``), PyTorch's CPU capability and the
load average; the runner stores it with every result.

Targets. numba compiles for the CPU named by ``NUMBA_CPU_NAME`` with the features of
``NUMBA_CPU_FEATURES`` (else the host's), so an AVX-512 machine can produce and run the
code an AVX2-only CPU would get. ``target_env("avx2")`` is that environment (``"haswell"``: the same for Intel
Haswell's features and tuning), with the other
libraries held to AVX2 as well, so that both sides of a ratio run what a Zen 3 / Haswell
user runs:

    NUMBA_CPU_NAME=znver3  NUMBA_CPU_FEATURES=<the host's features minus AVX-512 & later>
    OPENBLAS_CORETYPE=Haswell        (numpy's and scipy's OpenBLAS pick their AVX2 kernels)
    ATEN_CPU_CAPABILITY=avx2         (PyTorch's own kernels)
    ONEDNN_MAX_CPU_ISA=AVX2          (PyTorch's oneDNN convolutions)

These must be set before numba, numpy and torch load, hence ``python -m benchmarks
--target avx2`` re-runs itself in a child process with them. numba keys its on-disk cache
by CPU name and features, so both targets share a cache directory without clashing.
"""
from __future__ import annotations

import os
import platform

# Features of AMD Zen 3 (LLVM's znver3) that an x86-64 host may have; anything else the
# host has (AVX-512, AVX-VNNI, GFNI, ...) is switched off for the AVX2 target.
_ZNVER3 = frozenset(
    "64bit adx aes avx avx2 bmi bmi2 clflushopt clwb clzero cmov crc32 cx16 cx8 f16c fma "
    "fsgsbase fxsr invpcid lzcnt mmx movbe mwaitx pclmul pku popcnt prfchw rdpid rdpru "
    "rdrnd rdseed sahf sha sse sse2 sse3 sse4.1 sse4.2 sse4a ssse3 vaes vpclmulqdq "
    "wbnoinvd xsave xsavec xsaveopt xsaves".split())

# Intel Haswell's (LLVM's haswell), for the second AVX2 target.
_HASWELL = frozenset(
    "64bit aes avx avx2 bmi bmi2 cmov crc32 cx16 cx8 f16c fma fsgsbase fxsr invpcid lzcnt "
    "mmx movbe pclmul popcnt rdrnd sahf sse sse2 sse3 sse4.1 sse4.2 ssse3 xsave "
    "xsaveopt".split())

TARGETS = ("host", "avx2", "haswell")


def _features(allowed: frozenset) -> str:
    """The host's LLVM feature string with every feature not in ``allowed`` turned off."""
    import llvmlite.binding as ll
    out = []
    for flag in ll.get_host_cpu_features().flatten().split(","):
        name = flag[1:]
        on = flag[0] == "+" and name in allowed
        out.append(("+" if on else "-") + name)
    return ",".join(out)


def target_env(target: str) -> dict:
    """Environment variables that make numba (and BLAS, PyTorch) compile/run for target."""
    if target == "host":
        return {}
    if target in ("avx2", "haswell"):
        name, allowed = ("znver3", _ZNVER3) if target == "avx2" else ("haswell", _HASWELL)
        return {"NUMBA_CPU_NAME": name, "NUMBA_CPU_FEATURES": _features(allowed),
                "OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2",
                "ONEDNN_MAX_CPU_ISA": "AVX2"}
    raise ValueError(f"unknown target {target!r}: expected one of {TARGETS}")


def in_target(target: str) -> bool:
    """True when this process already runs with target_env(target)'s numba settings."""
    env = target_env(target)
    return all(os.environ.get(k) == v for k, v in env.items() if k.startswith("NUMBA_CPU"))


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, with its family and model numbers."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if ":" in line:
                    k, v = line.split(":", 1)
                    fields.setdefault(k.strip(), v.strip())
                if not line.strip() and fields:
                    break
    except OSError:
        return platform.processor() or platform.machine()
    model = fields.get("model name", platform.machine())
    if "cpu family" in fields:
        model += f" (family {fields['cpu family']}, model {fields.get('model', '?')})"
    return model


def _vector_isa(features: str) -> str:
    on = {f[1:] for f in features.split(",") if f.startswith("+")}
    for name, isa in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"),
                      ("sse4.2", "SSE4.2")):
        if name in on:
            return isa
    return "SSE2"


def describe() -> dict:
    """The machine and libraries a measurement ran on (call after numpy/torch are loaded)."""
    import numba
    import llvmlite.binding as ll
    features = numba.config.CPU_FEATURES or ll.get_host_cpu_features().flatten()
    info = {
        "cpu_model": cpu_model(),
        "host_cpu": ll.get_host_cpu_name(),
        "numba_cpu": numba.config.CPU_NAME or ll.get_host_cpu_name(),
        "numba_isa": _vector_isa(features),
        "numba_threads": numba.get_num_threads(),
        "logical_cpus": os.cpu_count(),
        "numba": numba.__version__,
        "llvm": ".".join(map(str, ll.llvm_version_info)),
    }
    try:
        import scipy.linalg.cython_blas  # noqa: F401  (numba's np.dot calls scipy's BLAS)
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [f"{p.get('internal_api')} {p.get('version')} "
                        f"{p.get('architecture')} kernels, {p.get('num_threads')} threads "
                        f"({os.path.basename(p.get('filepath', ''))})"
                        for p in threadpool_info() if p.get("user_api") == "blas"]
    except ImportError:
        info["blas"] = ["unknown (threadpoolctl not installed)"]
    try:
        import torch
        info["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    try:
        info["loadavg_1min"] = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    return info


def summary(info: dict) -> str:
    """One paragraph naming the CPU, the compiled-for ISA, threads and BLAS."""
    torch = ""
    if "torch_cpu_capability" in info:
        torch = (f"; PyTorch kernels {info['torch_cpu_capability']}, "
                 f"{info['torch_threads']} threads")
    return (f"CPU {info['cpu_model']} ({info['logical_cpus']} logical CPUs, LLVM name "
            f"{info['host_cpu']}); numba {info['numba']} compiles for {info['numba_cpu']} "
            f"({info['numba_isa']}), {info['numba_threads']} threads; BLAS: "
            f"{'; '.join(info['blas']) or 'none found'}{torch}; "
            f"load average {info.get('loadavg_1min', '?')} at the start")


def reexec(target: str, argv: list) -> "int | None":
    """Run ``python argv`` again in a child with target_env(target) unless this process
    already runs with it; returns the child's exit code, or None to carry on here."""
    if in_target(target):
        return None
    import subprocess
    import sys
    env = dict(os.environ, **target_env(target))
    return subprocess.call([sys.executable] + list(argv), env=env,
                           cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description="Print the machine a benchmark runs on, or the "
                                "environment of a target: env $(python -m benchmarks.machine "
                                "--env avx2) python benchmarks/kernel_conv.py")
    p.add_argument("--env", choices=TARGETS, help="print the target's variables as K=V words")
    a = p.parse_args()
    if a.env:
        print(" ".join(f"{k}={v}" for k, v in target_env(a.env).items()))
    else:
        import numpy  # noqa: F401  (so that its BLAS is listed)
        print(summary(describe()))
