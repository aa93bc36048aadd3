"""Stability of a ranking under perturbed weights."""

from __future__ import annotations

import numpy as np

from implant_match.ranking import Engine, RankOptions
from implant_match.stability import marker, perturbed_weights

from .factories import bundled_dataset


def test_perturbed_weights_are_seeded_and_within_20_percent() -> None:
    options = RankOptions(stability_draws=500, seed=3)
    evidence, share = perturbed_weights(options.weights, options.stability_draws, options.seed)
    again, _ = perturbed_weights(options.weights, options.stability_draws, options.seed)
    assert np.array_equal(evidence, again)
    assert evidence.shape == (500, 4)
    assert np.allclose(evidence.sum(axis=1), 1.0)
    assert share.min() >= 0.10 * 0.8 - 1e-12 and share.max() <= 0.10 * 1.2 + 1e-12


def test_stability_figures() -> None:
    engine = Engine(bundled_dataset())
    shortlist = engine.rank(RankOptions(top=3))
    figures = [r.stability for s in shortlist.needs for r in s.candidates]
    assert all(f is not None and 0.0 <= f <= 1.0 for f in figures)
    first = shortlist.needs[0].candidates
    assert shortlist.needs and first
    # a clear winner stays first under every weighting
    unir = engine.rank(RankOptions(need_ids=("formation-francais-refugies-lyon",), top=1))
    assert unir.needs[0].candidates[0].stability == 1.0
    assert engine.rank(RankOptions(top=3, stability=False)).needs[0].candidates[0].stability is None
    # deterministic for a seed
    again = engine.rank(RankOptions(top=3))
    assert figures == [r.stability for s in again.needs for r in s.candidates]


def test_stability_matches_a_direct_count() -> None:
    engine = Engine(bundled_dataset())
    options = RankOptions(need_ids=("collecte-tri-textile-lyon",), top=2, stability_draws=60)
    shortlist = engine.rank(options)
    evidence, share = perturbed_weights(options.weights, options.stability_draws, options.seed)
    from implant_match.weights import Weights

    need = shortlist.needs[0].need
    counts = {r.match.enterprise_id: 0 for r in shortlist.needs[0].candidates}
    for draw in range(options.stability_draws):
        w = Weights(
            themes=evidence[draw, 0],
            text=evidence[draw, 1],
            keywords=evidence[draw, 2],
            meaning=evidence[draw, 3],
            complementarity=share[draw],
        )
        top = engine.top_candidates([need], w, 2, 0.0)[0]
        for _, j in top:
            enterprise_id = engine.scorer.enterprises[j].id
            if enterprise_id in counts:
                counts[enterprise_id] += 1
    for ranked in shortlist.needs[0].candidates:
        expected = counts[ranked.match.enterprise_id] / options.stability_draws
        assert ranked.stability == expected


def test_markers() -> None:
    assert marker(1.0) == "stable"
    assert marker(0.75) == "moderate"
    assert marker(0.2) == "fragile"
    assert marker(None) == ""
