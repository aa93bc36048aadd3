"""Corpus analysis: the n-gram table gathered with arrays equals per-document counting,
typo folding finds what comparing every pair of words finds, and documents analysed in
several processes come out as in one."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from implant_match import analysis
from implant_match.analysis import GramTable, analyse_dataset
from implant_match.lexicon import load_lexicon

from .factories import make_dataset
from .generators import random_documents


@pytest.mark.parametrize("chunk", [1, 3, 4096])
def test_gram_table_counts_each_document_as_a_counter_would(
    chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs, enterprises = random_documents(11)
    dataset = make_dataset(needs=needs, enterprises=enterprises)
    corpus = analyse_dataset(dataset, load_lexicon())
    docs = [*corpus.needs.values(), *corpus.enterprises.values()]
    monkeypatch.setattr(analysis, "DOC_CHUNK", chunk)  # documents split across chunks
    table = GramTable.build([doc.words for doc in docs])
    assert len(table.indptr) == len(docs) + 1
    for i, doc in enumerate(docs):
        row = slice(table.indptr[i], table.indptr[i + 1])
        assert np.all(np.diff(table.indices[row]) > 0)  # increasing, no repeats
        counted = {
            table.vocabulary[g]: int(c)
            for g, c in zip(table.indices[row], table.counts[row], strict=True)
        }
        assert counted == doc.grams
    assert sum(len(doc.grams) for doc in docs) > 100
    frequency = table.document_frequency()
    for g, term in enumerate(table.vocabulary[:50]):
        assert frequency[g] == sum(term in doc.grams for doc in docs)


@pytest.mark.parametrize("jobs", [2, 3])
def test_documents_analysed_in_several_processes_are_those_of_one(
    jobs: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs, enterprises = random_documents(5, needs=7, enterprises=20)
    dataset = make_dataset(needs=needs, enterprises=enterprises)
    alone = analyse_dataset(dataset, load_lexicon())
    forked: list[int] = []
    fork_map = analysis.fork_map

    def counted_fork_map(*args: Any) -> Any:
        forked.append(args[2])
        return fork_map(*args)

    monkeypatch.setattr(analysis, "fork_map", counted_fork_map)
    assert analyse_dataset(dataset, load_lexicon(), jobs).needs.keys() == alone.needs.keys()
    assert forked == []  # a small corpus is analysed in this process
    monkeypatch.setattr(analysis, "PARALLEL_DOCUMENTS", 1)
    shared = analyse_dataset(dataset, load_lexicon(), jobs)
    assert forked == [jobs]
    for kind in ("needs", "enterprises", "actors"):
        one, many = getattr(alone, kind), getattr(shared, kind)
        assert list(many) == list(one) and len(one) > 0
        for key, doc in one.items():
            assert vars(many[key]) == vars(doc), (kind, key)
    assert list(shared.idf.items()) == list(alone.idf.items())
    assert shared.grams.vocabulary == alone.grams.vocabulary
    for array in ("indptr", "indices", "counts"):
        assert np.array_equal(getattr(shared.grams, array), getattr(alone.grams, array))
    assert shared.need_keywords == alone.need_keywords


@pytest.mark.parametrize("weights", [(2.0, 1.0, 2.0), (1.0, 1.0, 1.5), (0.3, 1.0, 2.0)])
def test_weighted_terms_sum_counts_times_weights_in_first_seen_order(
    weights: tuple[float, float, float],
) -> None:
    from collections import Counter

    parts = [
        analysis.Analysed(["refugi", "franc", "refugi"], {"@fle": "FLE"}, words=["a", "b"]),
        analysis.Analysed(["cour", "franc"], {"@fle": "français langue étrangère"}),
        analysis.Analysed(["lyon"], {"#emploi": "emploi", "@fle": "FLE"}),
    ]
    doc = analysis._weighted(zip(parts, weights, strict=True))
    expected: dict[str, float] = {}
    for part, weight in zip(parts, weights, strict=True):
        for term, count in Counter([*part.stems, *part.concepts]).items():
            expected[term] = expected.get(term, 0.0) + count * weight
    assert list(doc.terms.items()) == list(expected.items())
    assert doc.concepts == {"@fle": "FLE", "#emploi": "emploi"}
    assert doc.stems == ["refugi", "franc", "refugi", "cour", "franc", "lyon"]


def _typo_map_by_all_pairs(counts: dict[str, int]) -> dict[str, str]:
    """``typo_map``'s rules applied to every pair of words, without its deletion index."""
    from rapidfuzz.distance import DamerauLevenshtein

    from implant_match.text import stem

    mapping = {}
    for word, count in counts.items():
        if len(word) < analysis.MIN_TYPO_LENGTH or word.isdigit():
            continue
        if count >= analysis.TRUSTED_COUNT:
            continue
        targets = [
            (other_count, other)
            for other, other_count in counts.items()
            if other != word
            and len(other) >= analysis.MIN_TYPO_LENGTH - 1
            and not other.isdigit()
            and other[0] == word[0]
            and stem(other) != stem(word)
            and DamerauLevenshtein.distance(word, other) <= 1
            and (
                other_count >= analysis.TRUSTED_COUNT
                or (other_count >= 2 * count and analysis._typo_like(word, other))
            )
        ]
        if targets:
            mapping[word] = min(targets, key=lambda t: (-t[0], t[1]))[1]
    return mapping


@pytest.mark.parametrize("seed", range(5))
def test_typo_map_finds_what_comparing_every_pair_finds(seed: int) -> None:
    """Deletion keys (and the words left out of the index) lose no correction."""
    rng = np.random.default_rng(seed)
    roots = ["".join(rng.choice(list("aeinrstuc"), size=rng.integers(6, 10))) for _ in range(30)]
    counts: dict[str, int] = {}
    for root in roots:
        counts[root] = int(rng.choice([1, 2, 3, 5, analysis.TRUSTED_COUNT]))
        for _ in range(3):  # a dropped, doubled, swapped or substituted letter
            i = int(rng.integers(0, len(root) - 1))
            variant = rng.choice(
                [
                    root[:i] + root[i + 1 :],
                    root[:i] + root[i] + root[i:],
                    root[:i] + root[i + 1] + root[i] + root[i + 2 :],
                    root[:i] + str(rng.choice(list("aeinrstuc"))) + root[i + 1 :],
                ]
            )
            counts.setdefault(str(variant), int(rng.choice([1, 1, 2, 4])))
    expected = _typo_map_by_all_pairs(counts)
    assert analysis.typo_map(Counter(counts)) == expected
    assert expected  # the words were made to hold typos
