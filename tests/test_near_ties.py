"""Near-ties of a cohort: every cohort swapping one member within the tolerance, checked
against brute force on small instances."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from implant_match.cli import app
from implant_match.promotion import build_problem, choose_cohort, objective
from implant_match.ranking import Engine
from implant_match.selection import Selection
from implant_match.weights import Weights

from .factories import bundled, make_dataset
from .generators import random_documents
from .profiles import examples


def brute_force_ties(
    engine: Engine, chosen: set[str], territory: str | None, tolerance: float
) -> dict[tuple[str, str], float]:
    """(leaves, joins) -> objective of every cohort of the same size sharing all but one
    member with ``chosen`` and within ``tolerance`` of its objective."""
    problem = build_problem(engine, Weights(), territory, Selection())
    index = {c: i for i, c in enumerate(problem.candidates)}
    best = objective(problem.gains, [index[c] for c in chosen])
    found = {}
    for combo in itertools.combinations(problem.candidates, len(chosen)):
        other = set(combo)
        if len(other & chosen) != len(chosen) - 1:
            continue
        value = objective(problem.gains, [index[c] for c in other])
        if value >= best * (1 - tolerance) - 1e-9:
            ((leaves,), (joins,)) = (chosen - other, other - chosen)
            found[(leaves, joins)] = value
    return found


@settings(max_examples=examples(12), deadline=None)
@given(
    seed=st.integers(0, 10**6),
    size=st.integers(1, 3),
    territory=st.sampled_from([None, "territoire-0"]),
    tolerance=st.sampled_from([0.0, 0.01, 0.1, 0.5]),
)
def test_near_ties_equal_brute_force(
    seed: int, size: int, territory: str | None, tolerance: float
) -> None:
    needs, enterprises = random_documents(seed, needs=5, enterprises=8)
    engine = Engine(make_dataset(needs=needs, enterprises=enterprises))
    cohort = choose_cohort(engine, size, Weights(), territory, method="exact", tolerance=tolerance)
    chosen = {m.enterprise_id for m in cohort.enterprises}
    expected = brute_force_ties(engine, chosen, territory, tolerance)
    got = {(a.leaves, a.joins): a.objective for a in cohort.alternatives}
    if len(expected) <= 10:  # the list is cut at 10, best first
        assert got.keys() == expected.keys()
    else:
        assert len(got) == 10 and got.keys() <= expected.keys()
        assert min(got.values()) >= max(v for k, v in expected.items() if k not in got) - 1e-9
    for key, value in got.items():
        assert value == pytest.approx(expected[key], abs=1e-9)
    values = [a.objective for a in cohort.alternatives]
    assert values == sorted(values, reverse=True)
    for alternative in cohort.alternatives:
        assert set(alternative.enterprises) == (chosen - {alternative.leaves}) | {alternative.joins}


def test_pinned_members_are_never_swapped() -> None:
    needs, enterprises = random_documents(7, needs=5, enterprises=8)
    engine = Engine(make_dataset(needs=needs, enterprises=enterprises))
    free = choose_cohort(engine, 2, Weights(), method="exact", tolerance=1.0)
    pin = free.enterprises[0].enterprise_id
    pinned = choose_cohort(engine, 2, Weights(), include=(pin,), method="exact", tolerance=1.0)
    assert pinned.alternatives
    assert all(a.leaves != pin for a in pinned.alternatives)


def test_cohort_json_lists_the_alternatives() -> None:
    paths = bundled()
    result = CliRunner().invoke(
        app,
        [
            "cohort",
            "--size",
            "5",
            "--territory",
            "metropole-lyon",
            "--format",
            "json",
            "--needs",
            str(paths.needs),
            "--enterprises",
            str(paths.enterprises),
        ],
        env={"IMPLANT_MATCH_CACHE": "off"},
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["tolerance"] == 0.01
    assert document["alternatives"], "the bundled Lyon cohort of 5 has a near-tie"
    for alternative in document["alternatives"]:
        assert set(alternative) == {"leaves", "joins", "objective", "enterprises"}
        assert alternative["objective"] >= document["objective"] * 0.99 - 1e-6
    narrow = CliRunner().invoke(
        app,
        [
            "cohort",
            "--size",
            "5",
            "--territory",
            "metropole-lyon",
            "--format",
            "json",
            "--tolerance",
            "0",
            "--needs",
            str(paths.needs),
            "--enterprises",
            str(paths.enterprises),
        ],
        env={"IMPLANT_MATCH_CACHE": "off"},
    )
    assert json.loads(narrow.stdout)["alternatives"] == []


def test_near_ties_do_not_depend_on_the_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    from implant_match import promotion

    needs, enterprises = random_documents(11, needs=6, enterprises=10)
    engine = Engine(make_dataset(needs=needs, enterprises=enterprises))
    whole = choose_cohort(engine, 3, Weights(), method="exact", tolerance=0.5)
    monkeypatch.setattr(promotion, "TIE_CHUNK", 2)
    chunked = choose_cohort(engine, 3, Weights(), method="exact", tolerance=0.5)
    assert whole.alternatives and chunked.alternatives == whole.alternatives
