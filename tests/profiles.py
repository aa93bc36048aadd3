"""How many examples property tests try: a quick local loop, more in CI.

``HYPOTHESIS_PROFILE=ci`` (set by ``.ci/run``) tries four times the examples a test names;
the local loop half of them (at least five), to stay under a minute on two cores.
"""

from __future__ import annotations

import os

CI = os.environ.get("HYPOTHESIS_PROFILE") == "ci"


def examples(count: int) -> int:
    """The ``max_examples`` for a test that names ``count`` examples."""
    return count * 4 if CI else max(5, count // 2)
