"""Ranking on the bundled data and on small hand-made datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from implant_match import topk
from implant_match.errors import UnknownIdError
from implant_match.ranking import Engine, RankOptions, Shortlist
from implant_match.selection import Selection
from implant_match.topk import PAIR_PARTS, Pool, best, keys_of, merge
from implant_match.weights import Weights

from .factories import bundled_dataset, enterprises_document, make_dataset
from .profiles import examples


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(bundled_dataset())


def test_unir_first_for_refugees_french_in_lyon(engine: Engine) -> None:
    shortlist = engine.rank(RankOptions(need_ids=("formation-francais-refugies-lyon",)))
    first = shortlist.needs[0].candidates[0].match
    assert first.enterprise_id == "unir"
    assert {"apprentissage-francais", "accueil-refugies"} <= set(first.matched_themes)
    assert "singa-lyon" in [p.actor_id for p in first.partners]
    assert any("français" in w or "réfugi" in w for w in first.matched_words)


def test_dons_solidaires_first_for_basic_non_food_products(engine: Engine) -> None:
    shortlist = engine.rank(RankOptions(need_ids=("produits-premiere-necessite-lyon",)))
    first = shortlist.needs[0].candidates[0].match
    assert first.enterprise_id == "dons-solidaires"
    assert "produits-premiere-necessite" in first.matched_themes
    partners = {p.actor_id for p in first.partners}
    assert partners & {"solivet", "entourage-lyon"}


def test_default_view_groups_by_territory_then_priority(engine: Engine) -> None:
    shortlist = engine.rank(RankOptions(stability=False))
    order = [(s.need.territory, s.need.priority.weight) for s in shortlist.needs]
    territories = [t for t, _ in order]
    assert territories == sorted(territories)
    for territory in set(territories):
        weights = [w for t, w in order if t == territory]
        assert weights == sorted(weights, reverse=True)
    assert all(len(s.candidates) <= 5 for s in shortlist.needs)
    assert len(shortlist.needs) == len(engine.dataset.needs)


def test_candidates_sorted_by_score_then_id(engine: Engine) -> None:
    for item in engine.rank(RankOptions(top=40, stability=False)).needs:
        keys = [(-round(r.match.score, 6), r.match.enterprise_id) for r in item.candidates]
        assert keys == sorted(keys)
        assert [r.rank for r in item.candidates] == list(range(1, len(item.candidates) + 1))


def test_filters(engine: Engine) -> None:
    by_territory = engine.rank(RankOptions(territory="grenoble-alpes-metropole", stability=False))
    assert by_territory.needs
    assert {s.need.territory for s in by_territory.needs} == {"grenoble-alpes-metropole"}
    by_theme = engine.rank(RankOptions(theme="precarite", stability=False))
    family = engine.descendants("precarite")
    assert by_theme.needs
    assert all(family & set(s.need.themes) for s in by_theme.needs)
    high = engine.rank(RankOptions(min_score=60, top=20, stability=False))
    assert all(r.match.score >= 60 for s in high.needs for r in s.candidates)


def test_unknown_ids_get_a_suggestion(engine: Engine) -> None:
    with pytest.raises(UnknownIdError, match="did you mean 'formation-francais-refugies-lyon'"):
        engine.rank(RankOptions(need_ids=("formation-francais-refugie-lyon",)))
    with pytest.raises(UnknownIdError, match="did you mean 'metropole-lyon'"):
        engine.rank(RankOptions(territory="metropole-lyn"))


def test_enterprise_view_lists_its_best_needs(engine: Engine) -> None:
    shortlist = engine.rank(RankOptions(enterprise="unir", top=3))
    view = shortlist.enterprise_view
    assert view is not None and 1 <= len(view) <= 3
    assert all(r.match.enterprise_id == "unir" for r in view)
    assert view[0].match.need_id == "formation-francais-refugies-lyon"
    assert view[0].rank == 1
    scores = [r.match.score for r in view]
    assert scores == sorted(scores, reverse=True)


def test_hard_territory_rule(tmp_path: Path) -> None:
    engine = Engine(make_dataset())
    shortlist = engine.rank(RankOptions(top=10, stability=False))
    ranked = {s.need.id: [r.match.enterprise_id for r in s.candidates] for s in shortlist.needs}
    assert "cantine" not in ranked["fle-lyon"]  # wants Grenoble only
    assert "cantine" in ranked["repas-grenoble"]
    excluded = engine.explain("cantine", "fle-lyon", Weights())
    assert not hasattr(excluded, "score")
    assert "grenoble" in excluded.reason


def test_priority_never_reorders_candidates(tmp_path: Path) -> None:
    def order(priority: str) -> list[str]:
        from .factories import needs_document

        document = needs_document()
        document["needs"][0]["priority"] = priority
        engine = Engine(make_dataset(needs=document))
        shortlist = engine.rank(RankOptions(need_ids=("fle-lyon",), top=10, stability=False))
        return [r.match.enterprise_id for r in shortlist.needs[0].candidates]

    assert order("low") == order("high")


def test_ties_are_broken_by_id(tmp_path: Path) -> None:
    twins = [
        {
            "id": f"twin-{c}",
            "name": f"Jumeau {c}",
            "origin": "Paris",
            "description": "Cours de français pour réfugiés.",
            "themes": ["francais"],
        }
        for c in "cab"
    ]
    engine = Engine(make_dataset(enterprises=enterprises_document(twins)))
    shortlist = engine.rank(RankOptions(need_ids=("fle-lyon",), top=3, stability=False))
    assert [r.match.enterprise_id for r in shortlist.needs[0].candidates] == [
        "twin-a",
        "twin-b",
        "twin-c",
    ]


@settings(max_examples=examples(200), deadline=None)
@given(
    st.lists(st.lists(st.integers(-1, 6), min_size=1, max_size=30), min_size=1, max_size=6),
    st.integers(1, 12),
    st.integers(1, 9),
)
def test_pool_selection_is_exact_with_ties(table: list[list[int]], size: int, block: int) -> None:
    """Block-wise selection of integer keys = sorting every pair by (-score, row)."""
    width = max(len(row) for row in table)
    # scores in halves of a point, many ties; -1 is a pair the rules keep out
    scores = np.full((len(table), width), -np.inf)
    for r, row in enumerate(table):
        scores[r, : len(row)] = [-np.inf if v < 0 else v / 2 for v in row]
    keys = np.full((len(table), 0), -1, dtype=np.int64)
    for start in range(0, width, block):
        cols = np.arange(start, min(start + block, width))
        block_keys = keys_of(scores[:, cols], cols)
        keys = np.concatenate(
            [keys, np.take_along_axis(block_keys, best(block_keys, size), axis=1)], axis=1
        )
        keys = np.take_along_axis(keys, best(keys, size), axis=1)
    pool = Pool(keys, np.zeros((*keys.shape, 4)))
    got, shown = pool.lists(), pool.lists(limit=3)
    for r in range(len(table)):
        expected = sorted(
            ((float(scores[r, j]), j) for j in range(width) if np.isfinite(scores[r, j])),
            key=lambda x: (-x[0], x[1]),
        )[:size]
        assert got[r] == expected
        assert shown[r] == expected[:3]  # the first candidates only, as rank shows them


def test_enterprise_view_rank_is_its_place_in_the_need_list(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from implant_match import scoring

    monkeypatch.setattr(scoring, "CHUNK", 4)  # the target and its rivals in many blocks
    # every enterprise competes (none left out for its presence), as in top_candidates
    everyone = Selection(keep_present=True)
    view = engine.rank(
        RankOptions(enterprise="dons-solidaires", top=8, selection=everyone)
    ).enterprise_view
    assert view
    target = engine.scorer.enterprise_index["dons-solidaires"]
    for ranked in view:
        need = engine.need(ranked.match.need_id)
        full = engine.top_candidates(
            [need], Weights(), len(engine.scorer.enterprises), 0.0, everyone
        )[0]
        assert [j for _, j in full].index(target) + 1 == ranked.rank
        assert ranked.stability is not None and 0.0 <= ranked.stability <= 1.0


@pytest.mark.parametrize(
    "options",
    [
        RankOptions(top=5),
        RankOptions(top=3, stability=False, min_score=20.0),
        RankOptions(top=4, territory="metropole-lyon"),
        RankOptions(top=2, need_ids=("formation-francais-refugies-lyon", "emploi-jeunes-isere")),
    ],
)
@pytest.mark.slow
@pytest.mark.parametrize("jobs", [2, 3])
def test_ranking_runs_of_needs_in_workers_gives_the_same_shortlist(
    engine: Engine, options: RankOptions, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from implant_match import ranking
    from implant_match.export import dumps, json_array, json_items, json_records

    whole = json_records(engine.rank(options))
    assert whole
    parts = engine.rank_parts(options, lambda part: part, jobs, min_pairs=0)
    assert len(parts) == min(jobs, len(engine.select_needs(options)))
    assert json_records(Shortlist.join(parts, options)) == whole
    monkeypatch.setattr(ranking, "PARALLEL_PAIRS", 0)
    assert json_records(engine.rank(options, jobs)) == whole
    pieces = engine.rank_parts(options, lambda s: json_items(json_records(s)), jobs, min_pairs=0)
    assert "".join(json_array(pieces)) == dumps(whole)
    assert json_array(["", ""]) == ["[]\n"] and json_array(["1", ""]) == ["[\n", "1", "\n]\n"]


def test_small_rankings_and_the_enterprise_view_stay_in_one_piece(engine: Engine) -> None:
    assert len(engine.rank_parts(RankOptions(), lambda part: part, jobs=4)) == 1  # few pairs
    options = RankOptions(enterprise="unir", top=3)
    (view,) = engine.rank_parts(options, lambda part: part, jobs=4, min_pairs=0)
    assert view.enterprise_view == engine.rank(options).enterprise_view
    assert Shortlist.join([view], options) is view


def _select(keys: np.ndarray, parts: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    keep = best(keys, size)
    return np.take_along_axis(keys, keep, axis=1), np.take_along_axis(parts, keep[:, :, None], 1)


@pytest.mark.parametrize("seed", range(60))
def test_merging_a_block_into_full_pools_equals_selecting_over_everything(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from implant_match.scoring import RawParts

    monkeypatch.setattr(topk, "MERGE_SHARE", 1.0)  # however many contend

    rng = np.random.default_rng(seed)
    needs, width, size = int(rng.integers(1, 8)), int(rng.integers(1, 40)), int(rng.integers(1, 9))

    def block(start: int) -> tuple[np.ndarray, RawParts, np.ndarray]:
        # few distinct values (ties broken by id), some below zero, some ruled out
        choices = [-3.0, 0.0, 2e-7, 1e-6, 12.4999996, 12.5, 12.5000004, 99.9]
        values = rng.choice(choices, (needs, width))
        values[rng.random((needs, width)) < 0.2] = -np.inf
        raw = RawParts(*(rng.random((needs, width)) for _ in PAIR_PARTS), values > -np.inf)
        return values, raw, np.arange(start, start + width)

    def parts_of(raw: RawParts) -> np.ndarray:
        return np.stack([getattr(raw, p) for p in PAIR_PARTS], axis=2)

    # either block may hold the lower ids, which win ties of rounded scores
    starts = [0, width] if rng.random() < 0.5 else [width, 0]
    first, raw, columns = block(starts[0])
    keys, parts = _select(keys_of(first, columns), parts_of(raw), min(size, width))
    if keys.shape[1] < size:  # pools are full once they hold ``size`` slots
        return
    second, raw, columns = block(starts[1])
    expected = _select(
        np.concatenate([keys, keys_of(second, columns)], axis=1),
        np.concatenate([parts, parts_of(raw)], axis=1),
        size,
    )
    merged = merge(keys, parts, second, raw, columns)
    assert merged is not None
    assert np.array_equal(merged[0], expected[0])
    assert np.array_equal(merged[1], expected[1])


def test_the_pool_is_the_same_merged_or_selected_block_by_block(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from implant_match import scoring

    monkeypatch.setattr(scoring, "CHUNK", 3)  # many blocks for the bundled data
    needs = engine.select_needs(RankOptions())
    pools = []
    for share in (-1.0, 1.0):  # never merge; always merge once pools are full
        monkeypatch.setattr(topk, "MERGE_SHARE", share)
        pools.append(engine.pool(needs, Weights(), 4))
    assert np.array_equal(pools[0].keys, pools[1].keys)
    assert np.array_equal(pools[0].parts, pools[1].parts)


def test_scores_clamped_to_zero_tie_by_id_when_merged(monkeypatch: pytest.MonkeyPatch) -> None:
    # below zero a score keys as zero: a lower id at -3 beats a higher id at 0.0
    from implant_match.scoring import RawParts

    monkeypatch.setattr(topk, "MERGE_SHARE", 1.0)

    def raw(values: list[float]) -> RawParts:
        array = np.array([values])
        return RawParts(*(array.copy() for _ in PAIR_PARTS), np.ones_like(array, dtype=bool))

    pooled = np.array([[99.9, 0.0]])
    keys = keys_of(pooled, np.array([5, 6]))
    parts = np.stack([pooled] * len(PAIR_PARTS), axis=2)
    merged = merge(keys, parts, np.array([[-3.0, -3.0]]), raw([-3.0, -3.0]), np.array([0, 9]))
    assert merged is not None
    assert Pool(*merged).rows().tolist() == [[5, 0]]  # 9 loses the tie, 6 is pushed out


def test_an_id_with_a_lookalike_character_is_shown_escaped(engine: Engine) -> None:
    """A Cyrillic 'а' in 'dons-solidаires' read exactly as the suggestion it differs from."""
    from implant_match.errors import shown_id

    assert shown_id("dons-solid\u0430ires") == "dons-solid\\u0430ires"
    assert shown_id("unir") == "unir"
    with pytest.raises(UnknownIdError) as caught:
        engine.explain("dons-solid\u0430ires", "produits-premiere-necessite-lyon", Weights())
    assert str(caught.value) == (
        "unknown enterprise 'dons-solid\\u0430ires'; did you mean 'dons-solidaires'?"
    )
