"""How much a shortlist depends on the weights someone chose.

Each weight is perturbed by up to +/-20 % (uniform, seeded), a few hundred times at once;
a pair's stability is the share of those weightings under which the enterprise stays in
the need's top N. Under such perturbations a score moves by at most a factor 1.5 either
way, so only candidates within that reach of the N-th can ever enter the top N: they are
the pool the draws are run on (``POOL``), all in one array operation per
group of needs, from the raw parts the ranking kept.
"""

from __future__ import annotations

import numpy as np

from implant_match.topk import ROW_BITS, ROW_MASK, SCORE_DECIMALS, Pool
from implant_match.weights import EVIDENCE_PARTS, PARTS, Weights

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


def perturbed_weights(weights: Weights, draws: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(evidence weights normalised per draw, complementarity share per draw)."""
    rng = np.random.default_rng(seed)
    # the parts before ``meaning`` came first: their draws are taken first, the same as
    # before it existed, so a ranking that weighs meaning 0 keeps its figures
    first = [p for p in PARTS if p != "meaning"]
    factors = rng.uniform(1 - SPREAD, 1 + SPREAD, size=(draws, len(first)))
    factors = np.concatenate(
        [factors, rng.uniform(1 - SPREAD, 1 + SPREAD, size=(draws, 1))], axis=1
    )
    order = [*first, "meaning"]
    base = np.array([getattr(weights, p) for p in order], dtype=np.float64)
    drawn = dict(zip(order, (base * factors).T, strict=True))
    evidence = np.stack([drawn[p] for p in EVIDENCE_PARTS], axis=1)
    totals = evidence.sum(axis=1, keepdims=True)
    totals[totals == 0] = 1.0
    return evidence / totals, np.clip(drawn["complementarity"], 0.0, 1.0)


def stability(
    pool: Pool, positions: np.ndarray, weights: Weights, top: int, draws: int = 300, seed: int = 0
) -> np.ndarray:
    """Stability of the pool candidates at ``positions`` (needs x shown), NaN where empty.

    The draws are scored from the raw parts the ranking kept, in one array operation per
    group of needs: nothing is rescored. Each (need, draw) ranks its pool by the same
    integer keys as the ranking (score in millionths, then id); a candidate is in that
    draw's top N when its key is at least the N-th largest.
    """
    evidence, share = perturbed_weights(weights, draws, seed)
    rows = pool.rows()
    out = np.full(positions.shape, np.nan)
    size = pool.keys.shape[1]
    for start in range(0, len(pool.keys), GROUP):
        group = slice(start, start + GROUP)
        parts = pool.parts[group]  # (needs, P, PAIR_PARTS)
        # the same operations as the ranking's keys, in place on one array (each
        # temporary would be another pass over needs x candidates x draws)
        evidence_count = len(EVIDENCE_PARTS)
        scores = parts[..., :evidence_count] @ evidence.T  # (needs, P, draws)
        scores *= 100.0
        scores *= 1.0 - parts[..., evidence_count : evidence_count + 1] * share[None, None, :]
        scores *= 10**SCORE_DECIMALS
        keys = np.rint(scores, out=scores).astype(np.int64)
        keys <<= ROW_BITS
        keys |= (ROW_MASK - np.maximum(rows[group], 0))[:, :, None]
        keys[pool.keys[group] < 0] = -1
        if size > top:  # each draw's N-th key, across the pool
            kth = np.partition(keys, size - top, axis=1)[:, size - top, :]
        else:  # no more candidates than places: every candidate is in
            kth = np.full((keys.shape[0], keys.shape[2]), -1, dtype=np.int64)
        where = np.minimum(positions[group], size - 1)  # (needs, shown)
        mine = np.take_along_axis(keys, where[:, :, None], axis=1)  # (needs, shown, draws)
        figures = (mine >= kth[:, None, :]).mean(axis=2)  # (needs, shown)
        valid = np.take_along_axis(pool.keys[group], where, axis=1) >= 0
        out[group] = np.where(valid, figures, np.nan)
    return out
