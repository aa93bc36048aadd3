"""A straightforward per-pair implementation of the score, to hold the vectorised one to.

It reads the same analysed texts (normalisation is not what it checks) and computes each
part for one pair with plain Python loops over dictionaries, following the definitions
in the scoring module's docstring.
"""

from __future__ import annotations

import math
import statistics

from implant_match import scoring as s
from implant_match.analysis import Analysis
from implant_match.dataset import Dataset
from implant_match.models import Enterprise, Need
from implant_match.scoring import need_key_terms
from implant_match.weights import Weights


def _vector(terms: dict[str, float], analysis: Analysis) -> dict[str, float]:
    raw = {
        t: (1.0 + math.log(tf)) * analysis.weight(t) * (s.CONCEPT_BOOST if t[0] in "@#" else 1)
        for t, tf in terms.items()
    }
    norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
    return {t: v / norm for t, v in raw.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def _lineage(dataset: Dataset) -> dict[str, list[str]]:
    out = {}
    for theme in dataset.themes:
        chain, current = [], dataset.themes[theme].parent
        while current is not None and current not in chain:
            chain.append(current)
            current = dataset.themes[current].parent
        out[theme] = chain
    return out


def themes_raw(dataset: Dataset, need: Need, enterprise: Enterprise) -> float:
    lineage = _lineage(dataset)
    sim = lambda a, b: s.link_strength(a, b, lineage)[1]  # noqa: E731
    recall = sum(max(sim(t, u) for u in enterprise.themes) for t in need.themes) / len(need.themes)
    precision = sum(max(sim(t, u) for t in need.themes) for u in enterprise.themes) / len(
        enterprise.themes
    )
    families = {(lineage.get(t) or [t])[-1] for t in enterprise.themes}
    spread = min(1.0, s.FREE_FAMILIES / max(len(families), 1))
    return recall**s.RECALL_EXPONENT * precision ** (1 - s.RECALL_EXPONENT) * spread


def focus(dataset: Dataset, analysis: Analysis, enterprise: Enterprise) -> float:
    breadths = [
        sum(1 for t in analysis.enterprises[e.id].terms if t[0] in "#@")
        for e in dataset.enterprises
    ]
    mine = sum(1 for t in analysis.enterprises[enterprise.id].terms if t[0] in "#@")
    limit = max(statistics.median(breadths), 1.0) * s.FOCUS_BREADTH_FACTOR + s.FOCUS_MARGIN
    return min(1.0, limit / max(mine, 1))


def text_raw(dataset: Dataset, analysis: Analysis, need: Need, enterprise: Enterprise) -> float:
    n, e = analysis.needs[need.id], analysis.enterprises[enterprise.id]
    words = _cosine(_vector(n.terms, analysis), _vector(e.terms, analysis))
    grams = _cosine(_vector(n.grams, analysis), _vector(e.grams, analysis))
    blend = s.WORD_SHARE * words + (1 - s.WORD_SHARE) * grams
    return min(1.0, blend / s.TEXT_SCALE) * focus(dataset, analysis, enterprise)


def keywords_raw(dataset: Dataset, analysis: Analysis, need: Need, enterprise: Enterprise) -> float:
    present = set(analysis.enterprises[enterprise.id].terms)
    items = []
    for term in need_key_terms(analysis, need.id):  # the evidence rules' reading of them
        concept_hit = min(1.0, sum(1.0 for t in term.concepts if t in present))
        stems = term.stems
        stem_hit = sum(1.0 for t in stems if t in present) / len(stems) if stems else 0.0
        items.append((1.0, max(concept_hit, stem_hit)))
    alias_weight = s.KEYWORD_THEME_WEIGHT if items else s.KEYWORD_ALIAS_ONLY_WEIGHT
    for theme in need.themes:
        items.append((alias_weight, 1.0 if f"#{theme}" in present else 0.0))
    total = max(sum(w for w, _ in items), s.KEYWORD_MIN_TOTAL)
    raw = sum(w * c for w, c in items) / total
    return min(1.0, raw * focus(dataset, analysis, enterprise))


def duplication(dataset: Dataset, analysis: Analysis, need: Need, enterprise: Enterprise) -> float:
    territory = dataset.territories[need.territory]
    best = 0.0
    e_vector = _vector(analysis.enterprises[enterprise.id].terms, analysis)
    for actor in territory.local_actors:
        a_vector = _vector(analysis.actors[(territory.id, actor.id)].terms, analysis)
        shared = len(set(enterprise.themes) & set(actor.themes))
        jaccard = shared / len(set(enterprise.themes) | set(actor.themes))
        cosine = _cosine(e_vector, a_vector)
        best = max(best, jaccard * (0.4 + 0.6 * min(1.0, cosine / s.DUP_TEXT_SCALE)))
    return best if best >= s.COMPETITOR_THRESHOLD else 0.0


def reference_score(
    dataset: Dataset, analysis: Analysis, need: Need, enterprise: Enterprise, weights: Weights
) -> float | None:
    """The score of one pair, or None when the territory rule excludes it."""
    if not enterprise.accepts(need.territory):
        return None
    w = weights.normalised()
    subtotal = 100.0 * (
        w["themes"] * themes_raw(dataset, need, enterprise)
        + w["text"] * text_raw(dataset, analysis, need, enterprise)
        + w["keywords"] * keywords_raw(dataset, analysis, need, enterprise)
    )
    return subtotal * (
        1.0 - w["complementarity"] * duplication(dataset, analysis, need, enterprise)
    )
