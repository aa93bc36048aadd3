"""Measure ranking quality on the labelled evaluation set.

Usage: python eval/evaluate.py [--needs eval/needs.yaml] [--enterprises ...] [--labels ...]

Prints nDCG@5, MRR and hit@1 for the engine and for two baselines on the same pairs and
the same territory rule: text similarity alone (rapidfuzz token_set_ratio on normalised
texts) and theme overlap alone (Jaccard of theme sets). Relevance grades are 2 (best
answers), 1 (partial), absent = 0; MRR and hit@1 look for the first grade-2 enterprise.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

import yaml

import implant_match as im
from implant_match.lexicon import Lexicon
from implant_match.models import Enterprise, Need
from implant_match.text import normalise

HERE = Path(__file__).resolve().parent

Ranker = Callable[[Need], list[str]]


def ndcg_at(ranked: list[str], grades: dict[str, int], k: int = 5) -> float:
    def dcg(gains: list[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:k]))

    ideal = dcg(sorted(grades.values(), reverse=True))
    return dcg([grades.get(e, 0) for e in ranked]) / ideal if ideal else 0.0


def reciprocal_rank(ranked: list[str], grades: dict[str, int]) -> float:
    return next((1.0 / (i + 1) for i, e in enumerate(ranked) if grades.get(e, 0) == 2), 0.0)


def measure(
    ranker: Ranker, needs: list[Need], labels: dict[str, dict[str, int]]
) -> dict[str, float]:
    rows = [(ranker(n), labels.get(n.id, {})) for n in needs]
    count = max(len(rows), 1)
    return {
        "nDCG@5": sum(ndcg_at(r, g) for r, g in rows) / count,
        "MRR": sum(reciprocal_rank(r, g) for r, g in rows) / count,
        "hit@1": sum(1.0 for r, g in rows if r and g.get(r[0], 0) == 2) / count,
    }


def engine_ranker(engine: im.Engine) -> Ranker:
    def rank(need: Need) -> list[str]:
        return [f.enterprise_id for f in im.rank(engine, need=need.id, top=10, stability=False)]

    return rank


def baseline_ranker(dataset: im.Dataset, similarity: Callable[[Need, Enterprise], float]) -> Ranker:
    def rank(need: Need) -> list[str]:
        scored = [
            (similarity(need, e), e.id) for e in dataset.enterprises if e.accepts(need.territory)
        ]
        scored.sort(key=lambda x: (-x[0], x[1]))
        return [e for _, e in scored[:10]]

    return rank


def text_only(need: Need, enterprise: Enterprise) -> float:
    from rapidfuzz import fuzz

    left = normalise(" ".join([need.title, need.description, *need.keywords]))
    right = normalise(" ".join([enterprise.name, enterprise.description, *enterprise.keywords]))
    return fuzz.token_set_ratio(left, right)


def themes_only(need: Need, enterprise: Enterprise) -> float:
    a, b = set(need.themes), set(enterprise.themes)
    return len(a & b) / len(a | b)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needs", type=Path, default=HERE / "needs.yaml")
    parser.add_argument("--enterprises", type=Path, default=HERE / "enterprises.yaml")
    parser.add_argument("--labels", type=Path, default=HERE / "labels.yaml")
    parser.add_argument("--no-lexicon", action="store_true", help="run without the lexicon")
    args = parser.parse_args(argv)
    dataset = im.load_dataset(args.needs, args.enterprises)
    document = yaml.safe_load(args.labels.read_text(encoding="utf-8"))
    labels: dict[str, dict[str, int]] = document["labels"]
    lexicon_cases = set(document.get("lexicon_cases", []))
    engine = im.Engine(dataset, Lexicon(())) if args.no_lexicon else im.Engine(dataset)
    groups = {
        "all needs": list(dataset.needs),
        "lexicon cases": [n for n in dataset.needs if n.id in lexicon_cases],
        "other needs": [n for n in dataset.needs if n.id not in lexicon_cases],
    }
    rankers = {
        "engine": engine_ranker(engine),
        "text only (token_set_ratio)": baseline_ranker(dataset, text_only),
        "themes only (Jaccard)": baseline_ranker(dataset, themes_only),
    }
    print(
        f"{len(dataset.needs)} needs, {len(dataset.enterprises)} enterprises, "
        f"{sum(len(v) for v in labels.values())} labelled pairs"
    )
    for group, needs in groups.items():
        if not needs:
            continue
        print(f"\n{group} ({len(needs)})")
        print(f"  {'ranker':<30} {'nDCG@5':>7} {'MRR':>7} {'hit@1':>7}")
        for name, ranker in rankers.items():
            m = measure(ranker, needs, labels)
            print(f"  {name:<30} {m['nDCG@5']:>7.3f} {m['MRR']:>7.3f} {m['hit@1']:>7.3f}")
    misses = [
        n.id
        for n in dataset.needs
        if (r := rankers["engine"](n)) and labels.get(n.id, {}).get(r[0], 0) != 2
    ]
    if misses:
        print("\nneeds whose first candidate is not a best answer: " + ", ".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
