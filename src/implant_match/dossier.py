"""The committee dossier as data: what ``implant-match report`` shows, before any word.

:func:`build_report` gathers, for one selection of needs (the options of ``rank``), every
figure the dossier prints: the shortlist, the score levels reached on this data, a heat
map of needs x shortlisted enterprises, the gaps (``im.gaps``) and, on request, a proposed
promotion (``im.cohort``). Nothing here is a sentence: ``dossier_html`` turns the
:class:`Report` into HTML in the reader's language.

(The module is not called ``report``: ``implant_match.report`` would shadow the
``im.report`` verb once imported.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from implant_match import __version__
from implant_match.explanation import Match
from implant_match.gap_report import DEFAULT_THRESHOLD, GapReport, NeedGap, ThemeGap, find_gaps
from implant_match.models import Enterprise, Need, Territory, Theme
from implant_match.promotion import (
    DEFAULT_COVER,
    DEFAULT_TOLERANCE,
    Chosen,
    Cohort,
    choose_cohort,
)
from implant_match.ranking import Engine, NeedShortlist, RankedMatch, RankOptions
from implant_match.weights import PARTS

LEVELS = (30.0, 50.0, 80.0)  # the score levels the legend explains
HEATMAP_COLUMNS = 12  # enterprises in the heat map: what fits across an A4 page
_WEB_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class SourceFile:
    """A data file the dossier was made from, and its fingerprint."""

    name: str  # as the reader gave it
    sha256: str  # hex digest of the bytes read


@dataclass(frozen=True)
class Level:
    """What a score level means on this data: how many needs reach it."""

    score: float
    needs_reaching: int  # selected needs whose best eligible candidate scores at least this
    needs: int  # selected needs
    cards_reaching: int  # shortlisted pairs scoring at least this
    cards: int  # shortlisted pairs

    @property
    def share(self) -> float:
        """Share of the selected needs reaching the level, in [0, 1]."""
        return self.needs_reaching / self.needs if self.needs else 0.0


@dataclass(frozen=True)
class Card:
    """One candidate for one need, with the enterprise's own record."""

    ranked: RankedMatch
    enterprise: Enterprise
    link: str | None  # the website when it is an http(s) address, else None


@dataclass(frozen=True)
class NeedSection:
    """One need, its shortlisted candidates and, when it has one, its gap."""

    shortlist: NeedShortlist
    cards: tuple[Card, ...]
    gap: NeedGap | None  # its best candidate falls short of the gap threshold

    @property
    def need(self) -> Need:
        return self.shortlist.need


@dataclass(frozen=True)
class HeatCell:
    """One need x enterprise cell of the heat map."""

    score: float | None  # None: the territory rule keeps the pair out
    rank: int | None  # its place in the need's shortlist, None when not shortlisted


@dataclass(frozen=True)
class HeatMap:
    """Needs (rows) x shortlisted enterprises (columns), every cell scored."""

    enterprises: tuple[Enterprise, ...]
    needs: tuple[Need, ...]
    cells: tuple[tuple[HeatCell, ...], ...]  # one row per need, one cell per enterprise
    left_out: int  # shortlisted enterprises beyond the columns shown


@dataclass(frozen=True)
class Member:
    """A member of the proposed promotion, and the needs it serves."""

    chosen: Chosen
    enterprise: Enterprise
    needs: tuple[Need, ...]


@dataclass(frozen=True)
class NearTie:
    """Another promotion within the tolerance of the best: one member swapped."""

    leaves: Enterprise
    joins: Enterprise
    objective: float


@dataclass(frozen=True)
class Promotion:
    """The proposed promotion (``im.cohort``) with names instead of ids."""

    cohort: Cohort
    members: tuple[Member, ...]
    uncovered: tuple[Need, ...]
    near_ties: tuple[NearTie, ...] = ()  # best first, within ``cohort.tolerance``


@dataclass(frozen=True)
class Report:
    """Everything the committee dossier shows, as data."""

    created: date
    version: str  # implant-match's
    territories: tuple[Territory, ...]  # those of the selected needs
    themes: dict[str, Theme]  # the taxonomy, for labels
    files: tuple[SourceFile, ...]
    options: RankOptions
    weights: dict[str, float]  # normalised, as the score uses them
    parts: tuple[str, ...]  # the score's named parts, in order
    levels: tuple[Level, ...]
    sections: tuple[NeedSection, ...]
    heatmap: HeatMap
    gaps: GapReport  # restricted to the selected needs and their territories
    promotion: Promotion | None
    names: dict[str, str]  # enterprise id -> name, for every enterprise the dossier names

    @property
    def needs(self) -> tuple[Need, ...]:
        return tuple(s.need for s in self.sections)


def web_link(address: str | None) -> str | None:
    """``address`` when it is an absolute http(s) URL a browser may follow, else None
    (``javascript:``, ``data:``, relative or malformed addresses are shown as text)."""
    if not address:
        return None
    text = address.strip()
    if any(ch.isspace() or ord(ch) < 32 or ch in "\"'<>\\" for ch in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in _WEB_SCHEMES or not parts.hostname:
        return None
    return text


def fingerprint(path: Path, name: str | None = None) -> SourceFile:
    """The SHA-256 of ``path``'s bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return SourceFile(name or str(path), digest.hexdigest())


def data_files(
    needs: Path | None = None,
    enterprises: Path | Sequence[Path] | None = None,
    lexicon: Path | None = None,
) -> tuple[SourceFile, ...]:
    """The fingerprints of the files a run reads (as ``open_engine`` resolves them)."""
    from implant_match.dataset import lexicon_file, resolve_paths
    from implant_match.loading import display_path

    paths = resolve_paths(needs, enterprises)
    found = [
        fingerprint(paths.needs, paths.needs_display),
        *(fingerprint(path, display_path(path)) for path in paths.enterprise_files),
    ]
    project_lexicon = lexicon_file(paths, lexicon)
    if project_lexicon is not None:
        found.append(fingerprint(project_lexicon))
    return tuple(found)


def build_report(
    engine: Engine,
    options: RankOptions,
    *,
    cohort_size: int | None = None,
    files: Sequence[SourceFile] = (),
    created: date | None = None,
    jobs: int = 1,
    gap_threshold: float = DEFAULT_THRESHOLD,
    cover_threshold: float = DEFAULT_COVER,
    heatmap_columns: int = HEATMAP_COLUMNS,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Report:
    """The dossier of the needs ``options`` select (``options.enterprise`` is not a
    dossier's view and is ignored), with a promotion of ``cohort_size`` when given and its
    near-ties within ``tolerance`` (a share of its objective)."""
    from dataclasses import replace

    from implant_match.session import with_meaning

    weights = with_meaning(engine, options.weights, jobs=jobs)  # the model, as rank sets it up
    options = replace(options, enterprise=None, weights=weights)
    shortlist = engine.rank(options, jobs)
    dataset = engine.dataset
    items = shortlist.needs
    needs = [s.need for s in items]
    territory_ids = list(dict.fromkeys(n.territory for n in needs))
    if options.territory and options.territory not in territory_ids:
        territory_ids.insert(0, options.territory)

    best = _best(engine, options, items)
    gaps = _gaps(engine, options, needs, territory_ids, gap_threshold, best)
    gap_of = {g.need.id: g for g in gaps.needs}
    sections = tuple(
        NeedSection(
            item,
            tuple(
                Card(r, e, web_link(e.website))
                for r in item.candidates
                for e in (dataset.enterprise_by_id[r.match.enterprise_id],)
            ),
            gap_of.get(item.need.id),
        )
        for item in items
    )
    promotion = None
    if cohort_size is not None:
        promotion = _promotion(engine, options, cohort_size, cover_threshold, needs, tolerance)
    heatmap = heat_map(engine, options, items, promotion, heatmap_columns)
    named = {c.enterprise for s in sections for c in s.cards} | set(heatmap.enterprises)
    named |= {dataset.enterprise_by_id[g.best.enterprise_id] for g in gaps.needs if g.best}
    return Report(
        created=created or date.today(),
        version=__version__,
        territories=tuple(dataset.territories[t] for t in territory_ids),
        themes=dataset.themes,
        files=tuple(files),
        options=options,
        weights=options.weights.normalised(),
        parts=PARTS,
        levels=_levels(items, best),
        sections=sections,
        heatmap=heatmap,
        gaps=gaps,
        promotion=promotion,
        names={e.id: e.name for e in sorted(named, key=lambda e: e.id)},
    )


def _best(
    engine: Engine, options: RankOptions, items: Sequence[NeedShortlist]
) -> dict[str, Match | None]:
    """Each need's best eligible candidate (None when no enterprise may set up there).

    It is the shortlist's first, unless a minimum score hid it: then the best are asked
    for again, without the minimum (one more pass over the enterprises)."""
    if options.min_score <= 0:
        return {s.need.id: s.candidates[0].match if s.candidates else None for s in items}
    needs = [s.need for s in items]
    tops = engine.top_candidates(needs, options.weights, 1, 0.0, options.selection)
    return {
        need.id: engine.match(need.id, engine.scorer.enterprises[top[0][1]].id, options.weights)
        if top
        else None
        for need, top in zip(needs, tops, strict=True)
    }


def _levels(items: Sequence[NeedShortlist], best: dict[str, Match | None]) -> tuple[Level, ...]:
    """How many needs' best candidate reaches each of :data:`LEVELS`."""
    tops = [m.score if m else 0.0 for m in best.values()]
    scores = [r.match.score for s in items for r in s.candidates]
    return tuple(
        Level(
            level,
            sum(b >= level for b in tops),
            len(tops),
            sum(s >= level for s in scores),
            len(scores),
        )
        for level in LEVELS
    )


def _gaps(
    engine: Engine,
    options: RankOptions,
    needs: Sequence[Need],
    territory_ids: Sequence[str],
    threshold: float,
    best: dict[str, Match | None],
) -> GapReport:
    """What ``im.gaps`` finds for the selection: its needs' gaps (from the best candidates
    already known), its territories' priority themes without a need or an enterprise."""
    found = find_gaps(
        engine, options.weights, threshold, options.territory, needs=needs, known=best
    )
    territories = set(territory_ids)

    def kept(themes: tuple[ThemeGap, ...]) -> tuple[ThemeGap, ...]:
        return tuple(g for g in themes if g.territory_id in territories)

    return GapReport(
        found.threshold,
        found.needs,
        kept(found.priorities_without_need),
        kept(found.priorities_without_enterprise),
    )


def _promotion(
    engine: Engine,
    options: RankOptions,
    size: int,
    cover_threshold: float,
    needs: Sequence[Need],
    tolerance: float,
) -> Promotion:
    dataset = engine.dataset
    cohort = choose_cohort(
        engine,
        size,
        options.weights,
        options.territory,
        exclude=options.selection.exclude,  # left out of the dossier, left out of it
        cover_threshold=cover_threshold,
        keep_present=options.selection.keep_present,
        tolerance=tolerance,
    )
    members = tuple(
        Member(
            chosen,
            dataset.enterprise_by_id[chosen.enterprise_id],
            tuple(dataset.need_by_id[n] for n in chosen.needs),
        )
        for chosen in cohort.enterprises
    )
    near_ties = tuple(
        NearTie(
            dataset.enterprise_by_id[tie.leaves],
            dataset.enterprise_by_id[tie.joins],
            tie.objective,
        )
        for tie in cohort.alternatives
    )
    return Promotion(
        cohort, members, tuple(dataset.need_by_id[n] for n in cohort.uncovered), near_ties
    )


def heat_map(
    engine: Engine,
    options: RankOptions,
    items: Sequence[NeedShortlist],
    promotion: Promotion | None = None,
    columns: int = HEATMAP_COLUMNS,
) -> HeatMap:
    """The selected needs x at most ``columns`` shortlisted enterprises, each cell scored
    by the engine (not only the shortlisted pairs: a committee compares across needs).

    Columns: the promotion's members first, then the enterprises shortlisted for the most
    needs (ties: the higher total score, then the id)."""
    dataset = engine.dataset
    count: dict[str, int] = {}
    total: dict[str, float] = {}
    place: dict[tuple[str, str], int] = {}
    for item in items:
        for ranked in item.candidates:
            e = ranked.match.enterprise_id
            count[e] = count.get(e, 0) + 1
            total[e] = total.get(e, 0.0) + ranked.match.score
            place[(item.need.id, e)] = ranked.rank
    chosen = [m.enterprise.id for m in promotion.members] if promotion else []
    others = sorted((e for e in count if e not in chosen), key=lambda e: (-count[e], -total[e], e))
    shown = (chosen + others)[:columns]
    left_out = len(set(count) | set(chosen)) - len(shown)
    needs = tuple(item.need for item in items)
    scorer = engine.scorer
    if needs and shown:
        rows = np.array([scorer.need_index[n.id] for n in needs], dtype=np.int64)
        cols = np.array([scorer.enterprise_index[e] for e in shown], dtype=np.int64)
        raw = scorer.raw(rows, cols)
        scores = raw.scores(options.weights)
        allowed = np.asarray(raw.allowed)
    else:
        scores = allowed = np.zeros((len(needs), len(shown)))
    cells = tuple(
        tuple(
            HeatCell(
                float(scores[r, c]) if allowed[r, c] else None,
                place.get((need.id, e)),
            )
            for c, e in enumerate(shown)
        )
        for r, need in enumerate(needs)
    )
    return HeatMap(
        tuple(dataset.enterprise_by_id[e] for e in shown), needs, cells, max(left_out, 0)
    )
