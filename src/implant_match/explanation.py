"""Explanation data: one pair's score part by part, with the evidence behind each part.

The scorer (:mod:`implant_match.scoring`) computes numbers for every pair at once; this
module builds, for the few pairs people look at, the record an explanation is read off:
each named part with its similarity, weight and points, the themes linked and how, the key
terms found (whole, partly, or through the lexicon), the words in common, the local actors
as partners or competitors. The output layer (:mod:`implant_match.wording`) turns it into
sentences in the reader's language; the English ``reasons`` kept on a match are the
machine outputs' (JSON, the rfc4180 CSV), which do not change with the language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from implant_match.dataset import Dataset
from implant_match.evidence import judge_key_term, same_written_word, shown_stems
from implant_match.models import Enterprise, Need
from implant_match.scoring import (
    COMPETITOR_THRESHOLD,
    MAX_PARTNERS,
    NOT_DECLARED,
    PARTNER_TEXT,
    PARTNER_THEME,
    SHORT_STEM_CHECK,
    Scorer,
    ThemeLink,
    _NeedEvidence,
    apply_declarations,
    declaration_of,
    declared_kinds,
    declared_links,
    duplication,
)
from implant_match.text import normalise
from implant_match.weights import EVIDENCE_PARTS, Weights

if TYPE_CHECKING:
    from implant_match.embedding import SentencePair

# -- records --------------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    """One named part of a score, with the evidence behind it."""

    name: str
    raw: float  # similarity in [0, 1]
    weight: float  # negative for the complementarity penalty
    points: float  # 100 x raw x weight
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActorLink:
    """A local actor of the need's territory, as a partner or a competitor."""

    actor_id: str
    name: str
    duplication: float
    reason: str
    declaration: str | None = None  # partner, competitor or saturated, as the data declares
    declared_for: str | None = None  # the enterprise id or theme id the declaration names
    # where the actor is listed: the need's territory, or one it lies in (its région...)
    territory_id: str = ""
    level: int = 0  # 0: the need's own territory, 1: its parent, 2: the parent's parent...


@dataclass(frozen=True)
class Dilution:
    """Why an enterprise's evidence counts for less: its themes fall in many families of the
    taxonomy (the themes part is multiplied by ``themes_factor``), or its text names far more
    subjects than most (the text and keyword parts by ``text_factor``)."""

    theme_families: int
    themes_factor: float
    text_subjects: int
    text_factor: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "theme_families": self.theme_families,
            "themes_factor": round(self.themes_factor, 4),
            "text_subjects": self.text_subjects,
            "text_factor": round(self.text_factor, 4),
        }


@dataclass(frozen=True)
class Match:
    """One enterprise for one need: the score, its parts, and why."""

    need_id: str
    enterprise_id: str
    score: float
    components: tuple[Component, ...]
    theme_links: tuple[ThemeLink, ...]
    matched_words: tuple[str, ...]
    matched_keywords: tuple[str, ...]
    lexicon_links: tuple[str, ...]  # "FLE ≈ français langue étrangère"
    partners: tuple[ActorLink, ...]
    competitors: tuple[ActorLink, ...]
    missing_themes: tuple[str, ...]
    missing_keywords: tuple[str, ...]
    theme_words: tuple[str, ...] = ()  # aliases of the need's themes found in its text
    matched_terms: frozenset[str] = field(default=frozenset(), compare=False)
    closest: SentencePair | None = None  # the sentences closest in meaning (explain only)
    # key terms only some of whose words the enterprise's text holds, with those words
    partial_keywords: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # key terms found through the lexicon: (key term, the form the enterprise wrote)
    keyword_equivalents: tuple[tuple[str, str], ...] = ()
    dilution: Dilution | None = None  # None: the enterprise's evidence counts in full
    # the data's labels of the need themes linked, for sentences that name them
    theme_labels: tuple[tuple[str, str], ...] = ()

    @property
    def matched_themes(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(
                link.need_theme for link in self.theme_links if link.how in ("exact", "narrower")
            )
        )

    def component(self, name: str) -> Component:
        return next(c for c in self.components if c.name == name)

    @property
    def points(self) -> dict[str, float]:
        return {c.name: c.points for c in self.components}


@dataclass(frozen=True)
class Exclusion:
    """A pair the hard territory rule keeps out of every ranking."""

    need_id: str
    enterprise_id: str
    reason: str


# -- one pair, with its evidence ------------------------------------------------------


def build_match(scorer: Scorer, need: Need, enterprise: Enterprise, weights: Weights) -> Match:
    """Score one pair through the same matrices as the ranking, and gather its evidence."""
    i = scorer.need_index[need.id]
    j = scorer.enterprise_index[enterprise.id]
    themes, text, keywords, meaning, dup = scorer.pair_parts(i, j)
    w = _normalised(weights)
    values = {"themes": themes, "text": text, "keywords": keywords, "meaning": meaning}
    subtotal = 100.0 * sum(w[p] * values[p] for p in EVIDENCE_PARTS)
    analysis = scorer.analysis
    need_doc = analysis.needs[need.id]
    ent_doc = analysis.enterprises[enterprise.id]
    dataset = scorer.dataset

    links, missing_themes = scorer.theme_links(need.themes, enterprise.themes)

    shared = need_doc.terms.keys() & ent_doc.terms.keys()
    # rarest first, then alphabetical (a stable sort by weight of the sorted terms; every
    # term of a need or an enterprise has its weight)
    shared_stems = sorted(
        sorted([t for t in shared if t[0] not in "@#"]), key=analysis.idf.__getitem__, reverse=True
    )
    lexicon_links = tuple(
        [
            f"{need_doc.concepts[t]} ≈ {ent_doc.concepts[t]}"
            for t in sorted([t for t in shared if t[0] == "@"])
            if _differs(need_doc.concepts[t], ent_doc.concepts[t])
        ]
    )
    linked = {w for link in lexicon_links for w in normalise(link).split()}
    evidence_of_need = _need_evidence(scorer, need)
    forms = evidence_of_need.forms
    ent_terms = ent_doc.terms
    checked = [s for t in evidence_of_need.keywords for s in t.stems if s in ent_terms]
    same_word = _same_words(scorer, forms, enterprise, [*shared_stems, *checked])
    shown = shown_stems(shared_stems, same_word)
    words = tuple([w for w in [forms.get(t, t) for t in shown[:12]] if normalise(w) not in linked])[
        :10
    ]

    matched_kw: list[str] = []
    missing_kw: list[str] = []
    partial_kw: list[tuple[str, tuple[str, ...]]] = []
    through: list[tuple[str, str]] = []
    for term in evidence_of_need.keywords:
        verdict = judge_key_term(term, ent_terms, ent_doc.concepts, forms, same_word)
        if verdict.found:
            matched_kw.append(term.keyword)
            if verdict.through:
                through.append((term.keyword, verdict.through))
        else:
            missing_kw.append(term.keyword)
            if verdict.partial:
                partial_kw.append((term.keyword, verdict.partial))
    alias_hits = [
        ent_doc.concepts[t] for t in evidence_of_need.theme_terms if t in ent_doc.concepts
    ]
    said = {normalise(k) for k in matched_kw}
    theme_words = tuple([w for w in _unique(alias_hits) if normalise(w) not in said])

    partners, competitors = actor_links(scorer, enterprise, need.territory)
    evidence = {
        "themes": tuple([_link_text(scorer, link) for link in links]),
        "text": (*words[:6], *lexicon_links),
        "keywords": (*matched_kw, *[f"{form} (theme alias)" for form in alias_hits]),
        "meaning": (),
    }
    components = [
        Component(p, values[p], w[p], 100.0 * values[p] * w[p], evidence[p]) for p in EVIDENCE_PARTS
    ]
    penalty_raw = dup * subtotal / 100.0
    components.append(
        Component(
            "complementarity",
            penalty_raw,
            -w["complementarity"],
            100.0 * penalty_raw * -w["complementarity"] + 0.0,
            tuple([f"duplicates {c.name} ({c.duplication:.2f})" for c in competitors]),
        )
    )
    fields: dict[str, Any] = dict(
        need_id=need.id,
        enterprise_id=enterprise.id,
        score=sum(c.points for c in components),
        components=tuple(components),
        theme_links=tuple(links),
        matched_words=words,
        matched_keywords=_unique([*matched_kw, *alias_hits]),
        partial_keywords=tuple(partial_kw),
        keyword_equivalents=tuple(through),
        theme_words=theme_words,
        lexicon_links=lexicon_links,
        partners=partners,
        competitors=competitors,
        missing_themes=tuple(missing_themes),
        missing_keywords=tuple(missing_kw),
        dilution=dilution_of(scorer, j),
        theme_labels=tuple([(link.need_theme, _label(dataset, link.need_theme)) for link in links]),
        matched_terms=frozenset([*shown, *(t for t in shared if t[0] in "@#")]),
    )
    return Match(**fields)


def dilution_of(scorer: Scorer, j: int) -> Dilution | None:
    """How much less enterprise row ``j``'s evidence counts, or None when it counts in full."""
    themes_factor, text_factor = float(scorer.theme_focus[j]), float(scorer.focus[j])
    if themes_factor >= 1.0 and text_factor >= 1.0:
        return None
    return Dilution(
        int(scorer.theme_families[j]), themes_factor, int(scorer.breadth[j]), text_factor
    )


def _need_evidence(scorer: Scorer, need: Need) -> _NeedEvidence:
    found = scorer.need_evidence.get(need.id)
    if found is None:
        analysis = scorer.analysis
        found = scorer.need_evidence[need.id] = _NeedEvidence(
            analysis.surface_forms(need.id, (need.title, need.description, *need.keywords)),
            scorer.key_terms[need.id],
            tuple(f"#{t}" for t in need.themes),
        )
    return found


def _same_words(
    scorer: Scorer, need_forms: dict[str, str], enterprise: Enterprise, stems: Iterable[str]
) -> dict[str, bool]:
    """For each short stem shared, whether the need and the enterprise write the same word
    (their surface forms are read only when there is one)."""
    short = [s for s in stems if len(s) <= SHORT_STEM_CHECK]
    if not short:
        return {}
    forms = scorer.analysis.surface_forms(
        f"\0enterprise:{enterprise.id}",
        (enterprise.name, enterprise.description, *enterprise.keywords),
    )
    return {s: same_written_word(need_forms.get(s, s), forms.get(s, s)) for s in short}


def _link_text(scorer: Scorer, link: ThemeLink) -> str:
    """ "Label (how via label)", the evidence a theme link gives (once per link)."""
    text = scorer.link_texts.get(link)
    if text is None:
        dataset = scorer.dataset
        text = f"{_label(dataset, link.need_theme)} ({link.how}" + (
            f" via {_label(dataset, link.enterprise_theme)})" if link.how != "exact" else ")"
        )
        scorer.link_texts[link] = text
    return text


@lru_cache(maxsize=16)
def _normalised(weights: Weights) -> dict[str, float]:
    """``weights.normalised()``, once per weighting (a ranking explains thousands of pairs);
    read only."""
    return weights.normalised()


def _unique(texts: Sequence[str]) -> tuple[str, ...]:
    """Texts in order, without repeats that differ only by case or accents."""
    seen: dict[str, str] = {}
    for text in texts:
        seen.setdefault(normalise(text), text)
    return tuple(seen.values())


def _differs(a: str, b: str) -> bool:
    return normalise(a) != normalise(b)


def _label(dataset: Dataset, theme_id: str) -> str:
    theme = dataset.themes.get(theme_id)
    return theme.label if theme else theme_id


def actor_links(
    scorer: Scorer, enterprise: Enterprise, territory_id: str
) -> tuple[tuple[ActorLink, ...], tuple[ActorLink, ...]]:
    """Local actors of the territory that would partner with, or compete against, it."""
    key = (scorer.enterprise_index[enterprise.id], territory_id)
    if key not in scorer.actor_cache:
        prepare_actor_links(scorer, [key])
    result: tuple[tuple[ActorLink, ...], tuple[ActorLink, ...]] = scorer.actor_cache[key]
    return result


def prepare_actor_links(scorer: Scorer, pairs: Iterable[tuple[int, str]]) -> None:
    """Partners and competitors of many (enterprise row, territory) pairs at once.

    One matrix product per territory gives every text cosine and duplication; Python
    only assembles the links found.
    """
    by_territory: dict[str, list[int]] = {}
    for j, territory_id in pairs:
        if (j, territory_id) not in scorer.actor_cache:
            by_territory.setdefault(territory_id, []).append(j)
    for territory_id, rows_list in by_territory.items():
        js = np.array(sorted(set(rows_list)), dtype=np.int64)
        territory = scorer.dataset.territories.get(territory_id)
        rows, actors_t = scorer.territory_actors(territory_id) if territory else ([], np.zeros(0))
        if not rows:
            for j in js.tolist():
                scorer.actor_cache[(j, territory_id)] = ((), ())
            continue
        levels = scorer.actor_scope_ids(territory_id)
        homes = [scorer.actors[row][0].id for row in rows]
        cosine = np.asarray(scorer.enterprise_vectors[js] @ actors_t)  # (enterprises, actors)
        ent_themes = scorer.enterprise_themes[js]
        actor_themes = scorer.actor_themes[rows]
        kinds = declared_kinds(scorer, js, rows)
        computed = duplication(ent_themes, actor_themes, cosine)
        dup = apply_declarations(computed, kinds)
        # closest link between any actor theme and any enterprise theme, through the tree
        reach = np.stack(
            [(ent_themes * scorer.theme_sim[t]).max(axis=1) for t in range(len(scorer.theme_ids))],
            axis=1,
        )  # (enterprises, themes): how close the enterprise comes to each theme
        relation = (actor_themes[None, :, :] * reach[:, None, :]).max(axis=2)
        actors = [scorer.actors[row][1] for row in rows]
        actor_sets = [set(actor.themes) for actor in actors]
        # which actors each enterprise would compete or partner with, as arrays; Python
        # then only words the links found (most pairs are neither)
        competing = dup >= COMPETITOR_THRESHOLD
        same_work = cosine >= PARTNER_TEXT
        linked = competing | (relation >= PARTNER_THEME) | same_work
        if kinds is not None:
            kinds = declared_links(kinds, computed)
            linked |= kinds != NOT_DECLARED
        for e, j in enumerate(js.tolist()):
            enterprise_themes = set(scorer.enterprises[j].themes)
            partners: list[tuple[float, ActorLink]] = []
            competitors: list[ActorLink] = []
            for k in np.flatnonzero(linked[e]).tolist():
                actor = actors[k]
                d = float(dup[e, k])
                shared = sorted(actor_sets[k] & enterprise_themes)
                home = homes[k]
                declared = (
                    declaration_of(scorer, actor, j)
                    if kinds is not None and kinds[e, k] != NOT_DECLARED
                    else (None, None)
                )
                if competing[e, k]:
                    why = f"same themes ({', '.join(shared)}) and similar work"
                    competitors.append(
                        ActorLink(
                            actor.id,
                            actor.name,
                            d,
                            why,
                            *declared,
                            territory_id=home,
                            level=levels.index(home),
                        )
                    )
                else:
                    why = "neighbouring themes" if not shared else f"shares {', '.join(shared)}"
                    if same_work[e, k]:
                        why += ", same beneficiaries"
                    link = ActorLink(
                        actor.id,
                        actor.name,
                        d,
                        why,
                        *declared,
                        territory_id=home,
                        level=levels.index(home),
                    )
                    # declared partners first: the field knows better than the texts
                    first = 10.0 if declared[0] is not None else 0.0
                    partners.append((first + float(relation[e, k]) + float(cosine[e, k]), link))
            partners.sort(key=lambda p: (-p[0], p[1].actor_id))
            competitors.sort(key=lambda a: (-a.duplication, a.actor_id))
            scorer.actor_cache[(j, territory_id)] = (
                tuple(link for _, link in partners[:MAX_PARTNERS]),
                tuple(competitors),
            )
