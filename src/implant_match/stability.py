"""How much a shortlist depends on the weights someone chose.

Each weight is perturbed by up to +/-20 % (uniform, seeded), a few hundred times at once;
a pair's stability is the share of those weightings under which the enterprise stays in
the need's top N. Under such perturbations a score moves by at most a factor 1.5 either
way, so only candidates within that reach of the N-th can ever enter the top N: they are
the pool the draws are run on (``POOL``), all in one array operation per
group of needs, from the raw parts the ranking kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from implant_match.ranking import SCORE_DECIMALS
from implant_match.weights import EVIDENCE_PARTS, PARTS

if TYPE_CHECKING:
    from implant_match.ranking import Pool, RankOptions

SPREAD = 0.20
POOL = 60
GROUP = 64  # needs per array operation: 64 x 60 x 300 draws
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


def stability(pool: Pool, positions: np.ndarray, options: RankOptions) -> np.ndarray:
    """Stability of the pool candidates at ``positions`` (needs x shown), NaN where empty.

    The draws are scored from the raw parts the ranking kept, in one array operation per
    group of needs: nothing is rescored.
    """
    evidence, share = perturbed_weights(options)
    rows = pool.rows()
    out = np.full(positions.shape, np.nan)
    for start in range(0, len(pool.keys), GROUP):
        group = slice(start, start + GROUP)
        parts = pool.parts[group]  # (needs, P, 4)
        scores = 100.0 * (parts[..., :3] @ evidence.T)  # (needs, P, draws)
        scores *= 1.0 - parts[..., 3:4] * share[None, None, :]
        scores = np.round(scores, SCORE_DECIMALS)
        scores[pool.keys[group] < 0] = -np.inf
        js = rows[group][:, :, None]
        for s, where in enumerate(positions[group].T):
            where = np.minimum(where, scores.shape[1] - 1)[:, None, None]
            mine = np.take_along_axis(scores, where, axis=1)  # (needs, 1, draws)
            ahead = (scores > mine).sum(axis=1) + (
                (scores == mine) & (js < np.take_along_axis(js, where, axis=1))
            ).sum(axis=1)
            figures = (ahead < options.top).mean(axis=1)
            valid = np.take_along_axis(pool.keys[group], where[:, :, 0], axis=1)[:, 0] >= 0
            out[group, s] = np.where(valid, figures, np.nan)
    return out
