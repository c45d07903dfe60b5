import os

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, settings

# Profiles: "ci" is derandomised (same examples every run); "dev" explores; "thorough"
# explores much more. Chosen by TENSORLITE_HYPOTHESIS_PROFILE (CI=true implies "ci").
settings.register_profile("ci", derandomize=True, max_examples=12, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.differing_executors])
settings.register_profile("dev", max_examples=12, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.differing_executors])
settings.register_profile("thorough", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.differing_executors])
# The differential fuzzer (tests/test_fuzz_torch.py) has its own pair, chosen by
# TENSORLITE_FUZZ_PROFILE: "fuzz-ci" (default; derandomised, a few cases per op: about a
# minute for the whole op database on 2 cores) and "fuzz-nightly" (random, 300 per op).
# fuzz-ci does not shrink: a derandomised failure is reproduced exactly by a rerun, and
# shrinking an expected failure (an entry's fuzz_known) would cost the budget every run.
settings.register_profile("fuzz-ci", derandomize=True, max_examples=6, deadline=None,
                          phases=(Phase.explicit, Phase.reuse, Phase.generate),
                          suppress_health_check=list(HealthCheck))
settings.register_profile("fuzz-nightly", max_examples=300, deadline=None,
                          suppress_health_check=list(HealthCheck))
_default = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(os.environ.get("TENSORLITE_HYPOTHESIS_PROFILE", _default))


@pytest.fixture(autouse=True)
def _seed():
    import tensorlite as tl
    tl.manual_seed(0)
    np.random.seed(0)
