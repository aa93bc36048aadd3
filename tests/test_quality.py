"""Ranking quality on the labelled evaluation sets stays above the measured floor.

Measured with ``python eval/evaluate.py`` (set A: eval/, written before any tuning; set B:
eval/set-b/, written later by another hand): engine nDCG@5 0.935 and 0.902. The floors
leave a little room for harmless changes; a real regression falls through them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from implant_match.dataset import load_dataset
from implant_match.lexicon import Lexicon, load_lexicon
from implant_match.ranking import Engine, RankOptions

from .factories import EVAL

SETS = {"A": EVAL, "B": EVAL / "set-b"}
FLOORS = {"A": 0.92, "B": 0.88}


def ndcg_at_5(ranked: list[str], grades: dict[str, int]) -> float:
    import math

    def dcg(gains: list[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:5]))

    return dcg([grades.get(e, 0) for e in ranked]) / dcg(sorted(grades.values(), reverse=True))


def measure(folder: Path, lexicon: Lexicon | None = None, only: set[str] | None = None) -> float:
    dataset = load_dataset(folder / "needs.yaml", folder / "enterprises.yaml")
    labels = yaml.safe_load((folder / "labels.yaml").read_text(encoding="utf-8"))["labels"]
    engine = Engine(dataset, lexicon or load_lexicon())
    shortlist = engine.rank(RankOptions(top=10, stability=False))
    values = [
        ndcg_at_5([r.match.enterprise_id for r in s.candidates], labels[s.need.id])
        for s in shortlist.needs
        if only is None or s.need.id in only
    ]
    return sum(values) / len(values)


@pytest.mark.parametrize("name", sorted(SETS))
def test_ndcg_floor(name: str) -> None:
    assert measure(SETS[name]) >= FLOORS[name]


@pytest.mark.parametrize("name", sorted(SETS))
def test_lexicon_helps_its_cases_and_hurts_no_other(name: str) -> None:
    folder = SETS[name]
    labels = yaml.safe_load((folder / "labels.yaml").read_text(encoding="utf-8"))
    cases = set(labels["lexicon_cases"])
    others = set(labels["labels"]) - cases
    assert measure(folder, only=cases) > measure(folder, Lexicon(()), only=cases)
    assert measure(folder, only=others) >= measure(folder, Lexicon(()), only=others) - 0.01
