"""tensorgrad._malloc: glibc's trim / mmap thresholds set at import, so a step
that frees tens of MB does not pay page faults to get them back (Linux + glibc)."""
import os
import subprocess
import sys

import pytest

import tensorgrad  # noqa: F401
from tensorgrad import _malloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLIBC = sys.platform.startswith('linux') and os.confstr('CS_GNU_LIBC_VERSION') is not None
# five 8 MiB blocks allocated and freed, four times: page faults over the last three rounds
_CHURN = """
import resource, sys
import numpy as np
import tensorgrad, tensorgrad._malloc as m
def churn():
    blocks = [np.ones(1 << 21, dtype=np.float32) for _ in range(5)]
    del blocks
churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    churn()
print(m.applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _run(**env):
    base = {k: v for k, v in os.environ.items() if k not in _malloc._GLIBC_VARS and k != 'TENSORGRAD_MALLOC'}
    out = subprocess.run([sys.executable, '-c', _CHURN], env={**base, **env}, cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    return out[0] == 'True', int(out[1])


@pytest.mark.skipif(not GLIBC, reason='glibc only')
def test_freed_memory_is_reused_without_page_faults():
    applied, faults = _run()
    assert applied
    assert faults < 500  # measured: 0
    applied, faults = _run(TENSORGRAD_MALLOC='default')  # glibc's own policy trims the heap top
    assert not applied and faults > 3000  # measured: 6,628


@pytest.mark.skipif(not GLIBC, reason='glibc only')
@pytest.mark.parametrize('var', _malloc._GLIBC_VARS)
def test_glibc_settings_of_the_user_win(var):
    applied, _ = _run(**{var: '131072'})
    assert not applied
