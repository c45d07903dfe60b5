import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

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
_default = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(os.environ.get("TENSORLITE_HYPOTHESIS_PROFILE", _default))


@pytest.fixture(autouse=True)
def _seed():
    import tensorlite as tl
    tl.manual_seed(0)
    np.random.seed(0)
