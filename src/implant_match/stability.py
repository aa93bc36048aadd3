"""How much a shortlist depends on the weights someone chose.

Each weight is perturbed by up to +/-20 % (uniform, seeded), a few hundred times at once;
a pair's stability is the share of those weightings under which the enterprise stays in
the need's top N. Under such perturbations a score moves by at most a factor 1.5 either
way, so only candidates within that reach of the N-th can ever enter the top N: they are
the pool the draws are run on (``POOL``), all in one array operation per need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from implant_match.models import Need
from implant_match.scoring import Scorer
from implant_match.weights import EVIDENCE_PARTS, PARTS

if TYPE_CHECKING:
    from implant_match.ranking import RankOptions

SPREAD = 0.20
POOL = 60
STABLE, FRAGILE = 0.90, 0.60


def marker(stability: float | None) -> str:
    """The word a table shows for a stability figure."""
    if stability is None:
        return ""
    if stability >= STABLE:
        return "stable"
    return "fragile" if stability < FRAGILE else "moderate"


def perturbed_weights(options: RankOptions) -> tuple[np.ndarray, np.ndarray]:
    """(evidence weights normalised per draw, complementarity share per draw)."""
    rng = np.random.default_rng(options.seed)
    base = np.array([getattr(options.weights, p) for p in PARTS], dtype=np.float64)
    draws = base * rng.uniform(1 - SPREAD, 1 + SPREAD, size=(options.stability_draws, len(PARTS)))
    evidence = draws[:, : len(EVIDENCE_PARTS)]
    totals = evidence.sum(axis=1, keepdims=True)
    totals[totals == 0] = 1.0
    return evidence / totals, np.clip(draws[:, len(EVIDENCE_PARTS)], 0.0, 1.0)


def stability(
    scorer: Scorer,
    needs: list[Need],
    pools: list[list[tuple[float, int]]],
    options: RankOptions,
    only: int | None = None,
) -> dict[tuple[str, int], float]:
    """Stability of each shown (need, enterprise index) pair, from each need's pool."""
    evidence, share = perturbed_weights(options)
    out: dict[tuple[str, int], float] = {}
    for need, pool in zip(needs, pools, strict=True):
        if not pool:
            continue
        js = np.array([j for _, j in pool], dtype=np.int64)
        raw = scorer.raw(np.array([scorer.need_index[need.id]]), js)
        parts = np.stack([getattr(raw, p)[0] for p in EVIDENCE_PARTS])  # (3, P)
        scores = 100.0 * (evidence @ parts) * (1.0 - share[:, None] * raw.duplication[0][None])
        scores = np.round(scores, 6)
        shown = (
            range(min(options.top, len(pool)))
            if only is None
            else [k for k, j in enumerate(js) if j == only]
        )
        for k in shown:
            mine = scores[:, [k]]
            ahead = (scores > mine).sum(axis=1) + ((scores == mine) & (js < js[k])).sum(axis=1)
            out[(need.id, int(js[k]))] = float(np.mean(ahead < options.top))
    return out
