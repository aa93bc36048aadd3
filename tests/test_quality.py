"""Ranking quality on the labelled evaluation sets stays above the measured floor.

Measured with ``python eval/evaluate.py --set eval --set eval/set-b`` (set A: eval/,
written before any tuning; set B: eval/set-b/, written later by another hand), with the real
default meaning model: engine nDCG@5 0.966 and 0.906 (docs/quality.md). The floors leave a
little room for harmless changes; a real regression falls through them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from implant_match.dataset import load_dataset
from implant_match.embedding import UniversalSentenceEncoder
from implant_match.embedding_store import EmbeddingStore
from implant_match.lexicon import Lexicon, load_lexicon
from implant_match.ranking import Engine, RankOptions

from .factories import EVAL

SETS = {"A": EVAL, "B": EVAL / "set-b"}
FLOORS = {"A": 0.95, "B": 0.89}


def ndcg_at_5(ranked: list[str], grades: dict[str, int]) -> float:
    import math

    def dcg(gains: list[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:5]))

    return dcg([grades.get(e, 0) for e in ranked]) / dcg(sorted(grades.values(), reverse=True))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddingStore:
    """The real default model's embeddings, encoded once for the module."""
    return EmbeddingStore(tmp_path_factory.mktemp("quality"), UniversalSentenceEncoder().name)


def measure(
    folder: Path,
    store: EmbeddingStore,
    lexicon: Lexicon | None = None,
    only: set[str] | None = None,
) -> float:
    """Mean nDCG@5 of the default engine (meaning weighed by the real default model)."""
    dataset = load_dataset(folder / "needs.yaml", folder / "enterprises.yaml")
    labels = yaml.safe_load((folder / "labels.yaml").read_text(encoding="utf-8"))["labels"]
    engine = Engine(dataset, lexicon or load_lexicon())
    engine.use_meaning(UniversalSentenceEncoder(), store)
    shortlist = engine.rank(RankOptions(top=10, stability=False))
    values = [
        ndcg_at_5([r.match.enterprise_id for r in s.candidates], labels[s.need.id])
        for s in shortlist.needs
        if only is None or s.need.id in only
    ]
    return sum(values) / len(values)


@pytest.mark.parametrize("name", sorted(SETS))
def test_ndcg_floor(name: str, store: EmbeddingStore) -> None:
    assert measure(SETS[name], store) >= FLOORS[name]


@pytest.mark.parametrize("name", sorted(SETS))
def test_lexicon_helps_its_cases_and_hurts_no_other(name: str, store: EmbeddingStore) -> None:
    folder = SETS[name]
    labels = yaml.safe_load((folder / "labels.yaml").read_text(encoding="utf-8"))
    cases = set(labels["lexicon_cases"])
    others = set(labels["labels"]) - cases
    assert measure(folder, store, only=cases) > measure(folder, store, Lexicon(()), only=cases)
    assert (
        measure(folder, store, only=others)
        >= measure(folder, store, Lexicon(()), only=others) - 0.01
    )
