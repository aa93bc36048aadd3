"""Keeping each need's best candidates: integer keys that order by score, then by id.

Shared by the ranking (a pool per need, block by block) and the stability draws (which
rank the same pools under perturbed weights with the same keys), so that both agree to
the last tie.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from implant_match.scoring import RawParts
from implant_match.weights import Weights

SCORE_DECIMALS = 6  # scores equal to this precision are ties, broken by id

PAIR_PARTS = ("themes", "text", "keywords", "meaning", "duplication")
ROW_BITS = 32
ROW_MASK = (1 << ROW_BITS) - 1
_UNITS = 10**SCORE_DECIMALS


@dataclass
class Pool:
    """Each need's best candidates, best first.

    A candidate is held as one integer key, ``score in millionths << 32 | (mask - row)``,
    so that ordering keys orders by score, then by enterprise id (rows follow ids): one
    exact, vectorised selection per block, ties included. ``-1`` marks an empty slot.
    """

    keys: np.ndarray  # (needs, k) int64
    parts: np.ndarray  # (needs, k, 5): PAIR_PARTS of each candidate
    target_keys: np.ndarray | None = None  # (needs,) with a target enterprise
    target_parts: np.ndarray | None = None  # (needs, 5)
    target_ahead: np.ndarray | None = None  # (needs,) enterprises ranked ahead of it

    def rows(self) -> np.ndarray:
        """Enterprise row of each slot, -1 where empty."""
        return decode_rows(self.keys)

    def scores(self) -> np.ndarray:
        return decode_scores(self.keys)

    def lists(self, limit: int | None = None) -> list[list[tuple[float, int]]]:
        """Per need: (score, enterprise row) of each candidate, best first (the first
        ``limit`` only, if given)."""
        keys = self.keys[:, :limit]
        rows, scores, valid = decode_rows(keys).tolist(), decode_scores(keys).tolist(), keys >= 0
        return [
            [(s, j) for s, j, ok in zip(srow, jrow, vrow, strict=True) if ok]
            for srow, jrow, vrow in zip(scores, rows, valid.tolist(), strict=True)
        ]


def block_scores(raw: RawParts, weights: Weights, min_score: float) -> np.ndarray:
    """Scores of a block, -inf where the territory rule or ``min_score`` keeps a pair out."""
    scores = raw.scores(weights)
    keep = raw.allowed
    if min_score > 0 or scores.min(initial=0.0) < 0:  # else every rounded score reaches it
        keep = keep & (np.round(scores, SCORE_DECIMALS) >= min_score)
    return np.where(keep, scores, -np.inf)


def stacked_parts(raw: RawParts) -> np.ndarray:
    return np.stack([getattr(raw, p) for p in PAIR_PARTS], axis=2)


def keys_of(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    left_out = ~np.isfinite(scores)
    units: np.ndarray = np.maximum(scores, 0.0)
    units[left_out] = 0.0  # their keys are -1, set below
    units *= _UNITS
    keys: np.ndarray = np.rint(units, out=units).astype(np.int64)
    keys <<= ROW_BITS
    keys |= (ROW_MASK - rows.astype(np.int64))[None, :]
    keys[left_out] = -1
    return keys


MERGE_SHARE = 0.1  # above this share of a block's pairs as contenders, select as usual


def merge(
    keys: np.ndarray, parts: np.ndarray, scores: np.ndarray, raw: RawParts, columns: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Full pools (``keys`` best first) updated with a block's ``scores``, or None when too
    many of them contend (the caller then selects over the whole block).

    A pair whose score rounds below the units of its row's last key cannot enter (keys
    order by units first), so only pairs scoring at least one unit under it are keyed:
    with the keys ``_keys`` gives them, the result is that of selecting over all pairs.
    """
    size = keys.shape[1]
    last = keys[:, -1]
    units = last >> ROW_BITS  # of the last candidate; 0 where scores clamp to it (or empty)
    floor = np.where(units >= 1, (units - 1) / _UNITS, -np.inf)
    contend = scores >= floor[:, None]  # -inf scores (ruled out) never contend
    r, c = np.nonzero(contend)
    if len(r) > MERGE_SHARE * scores.size:
        return None
    new_keys = keys_of(scores[r, c][None, :], columns[c])[0]
    beats = new_keys > last[r]
    r, c, new_keys = r[beats], c[beats], new_keys[beats]
    if not len(r):
        return keys, parts
    new_parts = np.stack([getattr(raw, p)[r, c] for p in PAIR_PARTS], axis=1)
    # each touched row: its pool and its newcomers, best first, cut back to ``size``
    rows = np.unique(r)
    slot = np.searchsorted(rows, r)
    pooled = np.concatenate([keys[rows].reshape(-1), new_keys])
    owner = np.concatenate([np.repeat(np.arange(len(rows)), size), slot])
    order = np.lexsort((-pooled, owner))
    starts = np.searchsorted(owner[order], np.arange(len(rows)))
    chosen = order[(starts[:, None] + np.arange(size)[None, :]).reshape(-1)]
    everything = np.concatenate([parts[rows].reshape(-1, len(PAIR_PARTS)), new_parts])
    keys, parts = keys.copy(), parts.copy()
    keys[rows] = pooled[chosen].reshape(len(rows), size)
    parts[rows] = everything[chosen].reshape(len(rows), size, len(PAIR_PARTS))
    return keys, parts


def decode_rows(keys: np.ndarray) -> np.ndarray:
    return np.where(keys >= 0, ROW_MASK - (keys & ROW_MASK), -1)


def decode_scores(keys: np.ndarray) -> np.ndarray:
    return np.where(keys >= 0, (keys >> ROW_BITS) / _UNITS, -np.inf)


def best(keys: np.ndarray, k: int) -> np.ndarray:
    """Columns of the ``k`` largest keys of each row, largest first."""
    m = keys.shape[1]
    if m > k:
        pick = np.argpartition(keys, m - k, axis=1)[:, m - k :]
    else:
        pick = np.broadcast_to(np.arange(m), keys.shape).copy()
    order = np.argsort(-np.take_along_axis(keys, pick, axis=1), axis=1, kind="stable")
    return np.take_along_axis(pick, order, axis=1)
