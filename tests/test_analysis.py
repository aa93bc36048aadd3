"""Corpus analysis: the n-gram table gathered with arrays equals per-document counting."""

from __future__ import annotations

from pathlib import Path

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
    dataset = make_dataset(tmp_path, needs=needs, enterprises=enterprises)
    corpus = analyse_dataset(dataset, load_lexicon())
    docs = [*corpus.needs.values(), *corpus.enterprises.values()]
    monkeypatch.setattr(analysis, "DOC_CHUNK", chunk)  # documents split across chunks
    table = GramTable.build(docs)
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
