"""How many examples property tests try: a quick local loop, more in CI.

``HYPOTHESIS_PROFILE=ci`` (set by ``.ci/run``) multiplies every test's examples by four.
"""

from __future__ import annotations

import os

SCALE = 4 if os.environ.get("HYPOTHESIS_PROFILE") == "ci" else 1


def examples(count: int) -> int:
    """The ``max_examples`` for a test that tries ``count`` examples locally."""
    return count * SCALE
