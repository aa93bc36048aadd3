"""The score: vectorised path against a per-pair reference, and its invariants."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from implant_match import scoring
from implant_match.dataset import Dataset
from implant_match.explanation import build_match
from implant_match.ranking import Engine, RankOptions
from implant_match.scoring import Scorer
from implant_match.text import fold
from implant_match.weights import Weights

from .factories import make_dataset
from .generators import random_documents
from .profiles import examples
from .reference import reference_score

SEEDS = st.integers(min_value=0, max_value=10**6)


def dataset_from(seed: int, **kwargs: object) -> Dataset:
    needs, enterprises = random_documents(seed, **kwargs)  # type: ignore[arg-type]
    return make_dataset(needs=needs, enterprises=enterprises)


def all_scores(engine: Engine, weights: Weights | None = None) -> dict[tuple[str, str], float]:
    scorer = engine.scorer
    rows = np.arange(len(scorer.needs))
    out = {}
    for block, raw in scorer.blocks(rows, chunk=5):
        scores = raw.scores(weights or Weights())
        for i, need in enumerate(scorer.needs):
            for k, j in enumerate(range(block.start, block.stop)):
                if raw.allowed[i, k]:
                    out[(need.id, scorer.enterprises[j].id)] = float(scores[i, k])
    return out


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("theme_table", [True, False])
def test_vectorised_scores_equal_the_per_pair_reference(
    seed: int, dense: bool, theme_table: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = dataset_from(seed)
    engine = Engine(dataset)
    if not theme_table:  # as for theme sets too many to tabulate: overlaps per block
        monkeypatch.setattr(scoring, "THEME_TABLE_LIMIT", 0)
    engine.scorer = Scorer(dataset, engine.analysis, dense=dense)
    assert (engine.scorer.theme_table is not None) == theme_table
    weights = Weights(themes=0.3, text=0.5, keywords=0.2, complementarity=0.4)
    vectorised = all_scores(engine, weights)
    checked = 0
    for need in dataset.needs:
        for enterprise in dataset.enterprises:
            expected = reference_score(dataset, engine.analysis, need, enterprise, weights)
            if expected is None:
                assert (need.id, enterprise.id) not in vectorised
                continue
            assert vectorised[(need.id, enterprise.id)] == pytest.approx(expected, abs=1e-9)
            checked += 1
    assert checked > 20


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("cells", [1, 500, 10**9])  # a slice per need, a few, one
def test_n_gram_cosines_through_dense_slices_are_the_sparse_product(
    seed: int, cells: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bit for bit: the same terms summed in the same order, zeros left out."""
    dataset = dataset_from(seed, needs=9, enterprises=30)
    monkeypatch.setattr(scoring, "GRAM_DENSE_CELLS", cells)
    scorer = Scorer(dataset, Engine(dataset).analysis, dense=False)
    rows = np.array([5, 0, 3, 8, 1, 2, 7])  # not in order, some left out
    side = scorer._need_side(rows)
    shared = 0
    for block in (slice(0, 30), slice(4, 17), slice(29, 30)):
        _, grams = scorer._cosines(side, block)
        expected = scoring.product(side.grams, scorer.enterprise_grams[block])
        assert grams.shape == expected.shape
        assert np.array_equal(grams, expected)
        shared += int((expected > 0).sum())
    assert shared > 100
    assert side.gram_slices is not None
    slices = len(side.gram_slices)
    assert slices == 7 if cells == 1 else slices == 1 if cells == 10**9 else 1 < slices < 7


def test_chunking_does_not_change_the_top_lists(tmp_path: Path) -> None:
    engine = Engine(dataset_from(7, needs=8, enterprises=40))
    needs = list(engine.dataset.needs)
    import implant_match.scoring as scoring

    tops = []
    calls = []
    original_raw = engine.scorer._raw

    def counting_raw(*args: object) -> object:
        calls.append(1)
        return original_raw(*args)  # type: ignore[arg-type]

    engine.scorer._raw = counting_raw  # type: ignore[method-assign]
    for chunk in (1, 3, 1000):
        original = scoring.CHUNK
        scoring.CHUNK = chunk
        try:
            calls.clear()
            tops.append(engine.top_candidates(needs, Weights(), 5, 0.0))
            assert len(calls) == -(-40 // chunk)  # the chunking really happened
        finally:
            scoring.CHUNK = original
    assert tops[0] == tops[1] == tops[2]


@settings(max_examples=examples(25), deadline=None)
@given(seed=SEEDS)
def test_scores_are_bounded_and_sum_of_parts(seed: int) -> None:
    engine = Engine(dataset_from(seed))
    for need in engine.dataset.needs:
        for enterprise in engine.dataset.enterprises:
            if not enterprise.accepts(need.territory):
                continue
            match = build_match(engine.scorer, need, enterprise, Weights())
            assert math.isfinite(match.score)
            assert 0.0 <= match.score <= 100.0
            assert sum(c.points for c in match.components) == pytest.approx(match.score)
            for c in match.components:
                assert 0.0 <= c.raw <= 1.0
                assert c.points == pytest.approx(100.0 * c.raw * c.weight)


@settings(max_examples=examples(15), deadline=None)
@given(seed=SEEDS, shuffle_seed=st.integers(0, 1000))
def test_order_of_entries_changes_nothing(seed: int, shuffle_seed: int) -> None:
    needs, enterprises = random_documents(seed)
    rng = random.Random(shuffle_seed)
    shuffled_needs = {
        **needs,
        "needs": rng.sample(needs["needs"], len(needs["needs"])),
        "themes": rng.sample(needs["themes"], len(needs["themes"])),
        "territories": rng.sample(needs["territories"], len(needs["territories"])),
    }
    shuffled_enterprises = {
        **enterprises,
        "enterprises": rng.sample(enterprises["enterprises"], len(enterprises["enterprises"])),
    }
    a = Engine(make_dataset(needs=needs, enterprises=enterprises))
    b = Engine(make_dataset(needs=shuffled_needs, enterprises=shuffled_enterprises))
    assert all_scores(a) == all_scores(b)
    options = RankOptions(top=3)
    json_a = [
        (r.match.need_id, r.match.enterprise_id, r.rank, r.stability)
        for _, r in a.rank(options).pairs()
    ]
    json_b = [
        (r.match.need_id, r.match.enterprise_id, r.rank, r.stability)
        for _, r in b.rank(options).pairs()
    ]
    assert json_a == json_b


@settings(max_examples=examples(15), deadline=None)
@given(seed=SEEDS, upper=st.booleans(), side=st.sampled_from(["needs", "enterprises"]))
def test_folding_accents_or_case_changes_no_score(seed: int, upper: bool, side: str) -> None:
    needs, enterprises = random_documents(seed)

    def strip(text: str) -> str:
        return fold(text).upper() if upper else fold(text)

    document = needs if side == "needs" else enterprises
    folded = {
        **document,
        side: [
            {
                **item,
                "description": strip(item["description"]),
                **({"title": strip(item["title"])} if "title" in item else {}),
                "keywords": [strip(k) for k in item.get("keywords", [])],
            }
            for item in document[side]
        ],
    }
    a = Engine(make_dataset(needs=needs, enterprises=enterprises))
    b = Engine(
        make_dataset(
            needs=folded if side == "needs" else needs,
            enterprises=folded if side == "enterprises" else enterprises,
        )
    )
    left, right = all_scores(a), all_scores(b)
    assert left.keys() == right.keys()
    for key in left:
        assert left[key] == pytest.approx(right[key], abs=1e-9)


@settings(max_examples=examples(20), deadline=None)
@given(seed=SEEDS, pick=st.integers(0, 100))
def test_adding_a_shared_theme_never_lowers_the_theme_overlap(seed: int, pick: int) -> None:
    needs, enterprises = random_documents(seed)
    need = needs["needs"][pick % len(needs["needs"])]
    enterprise = enterprises["enterprises"][pick % len(enterprises["enterprises"])]
    missing = [t for t in need["themes"] if t not in enterprise["themes"]]
    richer = {
        **enterprises,
        "enterprises": [
            {**e, "themes": [*e["themes"], missing[0]]} if e is enterprise and missing else e
            for e in enterprises["enterprises"]
        ],
    }
    before = Engine(make_dataset(needs=needs, enterprises=enterprises))
    after = Engine(make_dataset(needs=needs, enterprises=richer))

    def themes_part(engine: Engine) -> tuple[float, float]:
        """The themes part and the factor of the enterprise's spread over families."""
        scorer = engine.scorer
        i = scorer.need_index[need["id"]]
        j = scorer.enterprise_index[enterprise["id"]]
        part = float(scorer.raw(np.array([i]), slice(j, j + 1)).themes[0, 0])
        return part, float(scorer.theme_focus[j])

    (part_after, spread_after), (part_before, spread_before) = (
        themes_part(after),
        themes_part(before),
    )
    # the overlap never falls; the part falls only when the new theme opens one family too many
    assert part_after / spread_after >= part_before / spread_before - 1e-12
    if spread_after == spread_before:
        assert part_after >= part_before - 1e-12


@settings(max_examples=examples(15), deadline=None)
@given(seed=SEEDS, top=st.integers(1, 6))
def test_top_k_returns_at_most_k_distinct_enterprises(seed: int, top: int) -> None:
    engine = Engine(dataset_from(seed))
    for item in engine.rank(RankOptions(top=top, stability=False)).needs:
        ids = [r.match.enterprise_id for r in item.candidates]
        assert len(ids) <= top
        assert len(set(ids)) == len(ids)
        need = item.need
        assert all(engine.dataset.enterprise_by_id[e].accepts(need.territory) for e in ids)
