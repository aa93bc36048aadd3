"""Big and deep theme trees: work in proportion to the themes used, limits said by validate.

A taxonomy of 100,000 themes made a dense 75 GiB matrix; 5,000 themes took 35 s (every
pair walked in Python); a chain of 5,000 parents ran for minutes in validation and scoring.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from implant_match.dataset import DataPaths, Dataset
from implant_match.dataset import load_dataset as load_files
from implant_match.errors import DataError
from implant_match.scoring import _lineage, link_strength, theme_similarity
from implant_match.validation import MAX_THEME_DEPTH

from .factories import THEMES, enterprises_document, needs_document
from .factories import write_dataset as write_small_dataset


def write_dataset(folder: Path, needs: Any = None, enterprises: Any = None) -> Any:
    """The files as JSON, which YAML reads as well: PyYAML writes 5,000 themes in seconds."""
    paths = write_small_dataset(folder)
    for path, document in ((paths.needs, needs), (paths.enterprises, enterprises)):
        if document is not None:
            path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return paths


def load_dataset(paths: DataPaths) -> Dataset:
    return load_files(paths.needs, paths.enterprises)


def with_themes(extra: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    document = needs_document(**overrides)
    document["themes"] = [*THEMES, *extra]
    return document


def chain(length: int, root: str = "alimentation") -> list[dict[str, Any]]:
    """``c1`` under ``root``, ``c2`` under ``c1``... ``length`` levels below ``root``."""
    return [
        {"id": f"c{k}", "label": f"Niveau {k}", "parent": f"c{k - 1}" if k > 1 else root}
        for k in range(1, length + 1)
    ]


def test_the_similarity_matrix_spans_only_the_themes_in_use(tmp_path: Path) -> None:
    unused = [{"id": f"t{k}", "label": f"Thème {k}", "parent": "alimentation"} for k in range(3000)]
    dataset = load_dataset(write_dataset(tmp_path, needs=with_themes(unused)))
    ids, matrix = theme_similarity(dataset)
    assert not any(t.startswith("t") and t[1:].isdigit() for t in ids)
    assert matrix.shape == (len(ids), len(ids)) and len(ids) < 20


def test_the_similarity_matrix_is_link_strength_for_every_pair(tmp_path: Path) -> None:
    """Siblings, parents and grandparents both ways, as the pairwise definition says."""
    extra = [
        {"id": "x1", "label": "X1", "parent": "aide-alimentaire"},
        {"id": "x2", "label": "X2", "parent": "aide-alimentaire"},
        {"id": "x3", "label": "X3", "parent": "x1"},
    ]
    needs = needs_document()["needs"]
    needs[0]["themes"] = ["x3", "alimentation", "francais"]
    enterprises = enterprises_document()
    enterprises["enterprises"][1]["themes"] = ["x1", "x2", "aide-alimentaire"]
    dataset = load_dataset(
        write_dataset(tmp_path, needs=with_themes(extra, needs=needs), enterprises=enterprises)
    )
    ids, matrix = theme_similarity(dataset)
    lineage = _lineage(dataset)
    expected = np.array([[link_strength(a, b, lineage)[1] for b in ids] for a in ids])
    assert {"x1", "x2", "x3"} <= set(ids)
    assert np.array_equal(matrix, expected)
    kinds = {link_strength(a, b, lineage)[0] for a, b in itertools.product(ids, ids)}
    assert kinds == {"exact", "narrower", "broader", "sibling", ""}


def test_a_big_taxonomy_ranks_in_time_proportional_to_the_themes_used(tmp_path: Path) -> None:
    from implant_match.lexicon import load_lexicon
    from implant_match.ranking import Engine, RankOptions

    unused = [
        {"id": f"t{k}", "label": f"Thème {k}", "parent": "alimentation"} for k in range(20000)
    ]
    dataset = load_dataset(write_dataset(tmp_path, needs=with_themes(unused)))
    start = time.perf_counter()
    shortlist = Engine(dataset, load_lexicon(None)).rank(RankOptions(stability=False))
    took = time.perf_counter() - start
    assert [need.id for need, _ in shortlist.pairs()]
    assert took < 5, took  # the old pairwise walk took 35 s at this size


def test_a_long_cycle_is_reported_once_in_linear_time(tmp_path: Path) -> None:
    themes = chain(5000)
    themes[0]["parent"] = "c5000"  # c1 -> ... -> c5000 -> c1
    start = time.perf_counter()
    with pytest.raises(DataError) as caught:
        load_dataset(write_dataset(tmp_path, needs=with_themes(themes)))
    took = time.perf_counter() - start
    cycles = [p for p in caught.value.problems if "own ancestor" in p.message]
    assert len(cycles) == 1
    assert cycles[0].message.startswith("theme 'c1' is its own ancestor: c1 -> c5000 -> c4999")
    assert cycles[0].message.endswith("c3 -> c2 -> c1")
    assert took < 20, took


@pytest.mark.parametrize("length", [MAX_THEME_DEPTH + 1, 5000])
def test_a_tree_deeper_than_the_limit_is_an_error_naming_it(tmp_path: Path, length: int) -> None:
    with pytest.raises(DataError) as caught:
        load_dataset(write_dataset(tmp_path, needs=with_themes(chain(length))))
    (problem,) = [p for p in caught.value.problems if p.is_error]
    level = MAX_THEME_DEPTH + 1
    assert problem.message == (
        f"theme 'c{level}' is {level} levels below its root; the limit is {MAX_THEME_DEPTH} levels"
    )


def test_a_tree_as_deep_as_the_limit_is_valid(tmp_path: Path) -> None:
    themes = chain(MAX_THEME_DEPTH - 1)  # c1 is one level below its root, alimentation
    dataset = load_dataset(write_dataset(tmp_path, needs=with_themes(themes)))
    assert f"c{MAX_THEME_DEPTH - 1}" in dataset.themes
