"""Cohort choice: the exact optimum against brute force, pins and the territory rule."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from implant_match.errors import UsageError
from implant_match.promotion import build_problem, choose_cohort, objective
from implant_match.ranking import Engine
from implant_match.weights import Weights

from .factories import bundled_dataset, make_dataset
from .generators import random_documents
from .profiles import examples


def brute_force(engine: Engine, size: int, territory: str | None) -> float:
    problem = build_problem(engine, Weights(), territory)
    n = len(problem.candidates)
    return max(
        (objective(problem.gains, list(c)) for c in itertools.combinations(range(n), min(size, n))),
        default=0.0,
    )


@settings(max_examples=examples(12), deadline=None)
@given(
    seed=st.integers(0, 10**6),
    size=st.integers(1, 4),
    territory=st.sampled_from([None, "territoire-0", "territoire-1"]),
)
def test_exact_cohort_equals_brute_force(seed: int, size: int, territory: str | None) -> None:
    needs, enterprises = random_documents(seed, needs=6, enterprises=10)
    engine = Engine(make_dataset(needs=needs, enterprises=enterprises))
    cohort = choose_cohort(engine, size, Weights(), territory, method="exact")
    assert cohort.objective == pytest.approx(brute_force(engine, size, territory), abs=1e-9)
    assert cohort.method.startswith("exact")
    greedy = choose_cohort(engine, size, Weights(), territory, method="greedy")
    assert greedy.objective <= cohort.objective + 1e-9
    assert greedy.objective >= (1 - 1 / 2.718281828) * cohort.objective - 1e-9


def test_objective_counts_each_need_once(tmp_path: Path) -> None:
    twins = [
        {
            "id": f"twin-{c}",
            "name": f"Jumeau {c}",
            "origin": "Paris",
            "description": "Cours de français pour réfugiés exilés.",
            "themes": ["francais"],
        }
        for c in "ab"
    ]
    other = {
        "id": "velo",
        "name": "Vélo",
        "origin": "Lyon",
        "description": "Réparation de vélos et transport solidaire.",
        "themes": ["mobilites"],
    }
    from .factories import enterprises_document, needs_document

    needs = needs_document()
    needs["needs"].append(
        {
            "id": "velo-lyon",
            "territory": "lyon",
            "title": "Vélo",
            "description": "Des vélos pour se déplacer, transport.",
            "themes": ["mobilites"],
        }
    )
    engine = Engine(make_dataset(needs=needs, enterprises=enterprises_document([*twins, other])))
    cohort = choose_cohort(engine, 2, Weights(), "lyon")
    chosen = {m.enterprise_id for m in cohort.enterprises}
    assert "velo" in chosen and len(chosen & {"twin-a", "twin-b"}) == 1  # complementary


def test_territory_rule_and_pins_on_bundled_data() -> None:
    engine = Engine(bundled_dataset())
    cohort = choose_cohort(engine, 8, Weights(), "metropole-lyon")
    assert len(cohort.enterprises) == 8
    assert cohort.method.startswith("exact")
    for assignment in cohort.assignments:
        need = engine.dataset.need_by_id[assignment.need_id]
        assert need.territory == "metropole-lyon"
        assert engine.dataset.enterprise_by_id[assignment.enterprise_id].accepts(need.territory)
    pinned = choose_cohort(
        engine, 8, Weights(), "metropole-lyon", include=("simplon",), exclude=("unir",)
    )
    ids = {m.enterprise_id for m in pinned.enterprises}
    assert "simplon" in ids and "unir" not in ids
    assert pinned.objective <= cohort.objective + 1e-9
    # the reported objective is the objective of the reported choice
    problem = build_problem(engine, Weights(), "metropole-lyon")
    index = [problem.candidates.index(m.enterprise_id) for m in cohort.enterprises]
    assert objective(problem.gains, index) == pytest.approx(cohort.objective)
    marginals = {m.enterprise_id: m.marginal for m in cohort.enterprises}
    for member in cohort.enterprises:
        rest = [i for i in index if problem.candidates[i] != member.enterprise_id]
        assert marginals[member.enterprise_id] == pytest.approx(
            cohort.objective - objective(problem.gains, rest)
        )


def test_bad_pins_are_usage_errors() -> None:
    engine = Engine(bundled_dataset())
    with pytest.raises(UsageError, match="both included and excluded"):
        choose_cohort(engine, 3, Weights(), include=("unir",), exclude=("unir",))
    with pytest.raises(UsageError, match="did you mean 'unir'"):
        choose_cohort(engine, 3, Weights(), include=("unri",))
    with pytest.raises(UsageError, match="--size is 1"):
        choose_cohort(engine, 1, Weights(), include=("unir", "simplon"))
