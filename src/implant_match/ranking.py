"""Rank stage: for each need, its best enterprises (or, flipped, an enterprise's best needs).

Candidates are ordered by score, ties broken by enterprise id, so the same inputs give the
same shortlist whatever the order of the files' entries. Need priority orders the needs in
the report and is shown beside each need; it never reorders candidates within one need.
The hard rule holds throughout: an enterprise whose ``target_territories`` excludes the
need's territory is never ranked for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from implant_match.analysis import Analysis, analyse_dataset
from implant_match.dataset import Dataset
from implant_match.errors import UnknownIdError, did_you_mean
from implant_match.lexicon import Lexicon, load_lexicon
from implant_match.models import Need, Priority
from implant_match.scoring import Exclusion, Match, Scorer, build_match
from implant_match.weights import Weights

SCORE_DECIMALS = 6  # scores equal to this precision are ties, broken by id
_PRIORITY_ORDER = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}


@dataclass(frozen=True)
class RankOptions:
    """What to rank and how much of it to keep."""

    need_ids: tuple[str, ...] = ()
    territory: str | None = None
    theme: str | None = None
    enterprise: str | None = None
    top: int = 5
    min_score: float = 0.0
    weights: Weights = field(default_factory=Weights)
    stability: bool = True
    stability_draws: int = 300
    seed: int = 0


@dataclass(frozen=True)
class RankedMatch:
    """A match with its place: ``rank`` is 1 for the best enterprise within the need."""

    match: Match
    rank: int
    stability: float | None = None  # share of perturbed weightings keeping it in the top N


@dataclass(frozen=True)
class NeedShortlist:
    """One need and its ranked candidates."""

    need: Need
    priority_theme: bool  # one of its themes is a priority theme of its territory
    candidates: tuple[RankedMatch, ...]
    eligible: int  # enterprises the territory rule lets compete for it


@dataclass(frozen=True)
class Shortlist:
    """The result of a ranking: needs in report order, or one enterprise's best needs."""

    needs: tuple[NeedShortlist, ...]
    options: RankOptions
    enterprise_view: tuple[RankedMatch, ...] | None = None  # set with options.enterprise

    def pairs(self) -> list[tuple[Need, RankedMatch]]:
        """Every ranked pair in display order (what JSON and exports list)."""
        if self.enterprise_view is not None:
            by_id = {s.need.id: s.need for s in self.needs}
            return [(by_id[r.match.need_id], r) for r in self.enterprise_view]
        return [(s.need, r) for s in self.needs for r in s.candidates]


class Engine:
    """A dataset analysed once, ready to rank, explain and score many times."""

    def __init__(self, dataset: Dataset, lexicon: Lexicon | None = None) -> None:
        self.dataset = dataset
        self.lexicon = lexicon or load_lexicon()
        self.analysis: Analysis = analyse_dataset(dataset, self.lexicon)
        self.scorer = Scorer(dataset, self.analysis)
        if not self.scorer.dense:  # large corpus: the vectors now hold what explanations need
            self.analysis.release_vectors_sources()

    # lookups with suggestions

    def need(self, need_id: str) -> Need:
        if need_id not in self.dataset.need_by_id:
            raise UnknownIdError(
                f"unknown need '{need_id}'{did_you_mean(need_id, self.dataset.need_by_id)}"
            )
        return self.dataset.need_by_id[need_id]

    def check_enterprise(self, enterprise_id: str) -> None:
        if enterprise_id not in self.dataset.enterprise_by_id:
            raise UnknownIdError(
                f"unknown enterprise '{enterprise_id}'"
                f"{did_you_mean(enterprise_id, self.dataset.enterprise_by_id)}"
            )

    def check_territory(self, territory_id: str) -> None:
        if territory_id not in self.dataset.territories:
            raise UnknownIdError(
                f"unknown territory '{territory_id}'"
                f"{did_you_mean(territory_id, self.dataset.territories)}"
            )

    def check_theme(self, theme_id: str) -> None:
        if theme_id not in self.dataset.themes:
            raise UnknownIdError(
                f"unknown theme '{theme_id}'{did_you_mean(theme_id, self.dataset.themes)}"
            )

    # selection

    def select_needs(self, options: RankOptions) -> list[Need]:
        """The needs the options ask for, in report order (territory, priority, id)."""
        for need_id in options.need_ids:
            self.need(need_id)
        if options.territory:
            self.check_territory(options.territory)
        if options.theme:
            self.check_theme(options.theme)
        if options.enterprise:
            self.check_enterprise(options.enterprise)
        theme_family = self.descendants(options.theme) if options.theme else None
        selected = [
            n
            for n in self.dataset.needs
            if (not options.need_ids or n.id in options.need_ids)
            and (options.territory is None or n.territory == options.territory)
            and (theme_family is None or theme_family & set(n.themes))
        ]
        return sorted(selected, key=self.need_order)

    def need_order(self, need: Need) -> tuple[str, int, bool, str]:
        return (need.territory, _PRIORITY_ORDER[need.priority], not self.is_priority(need), need.id)

    def is_priority(self, need: Need) -> bool:
        territory = self.dataset.territories.get(need.territory)
        if territory is None:
            return False
        wanted = set().union(*(self.descendants(t) for t in territory.priority_themes))
        return bool(wanted & set(need.themes))

    def descendants(self, theme_id: str) -> set[str]:
        children: dict[str, list[str]] = {}
        for theme in self.dataset.themes.values():
            if theme.parent:
                children.setdefault(theme.parent, []).append(theme.id)
        out, todo = set(), [theme_id]
        while todo:
            current = todo.pop()
            if current not in out:
                out.add(current)
                todo.extend(children.get(current, ()))
        return out

    # ranking

    def top_candidates(
        self, needs: list[Need], weights: Weights, top: int | None, min_score: float
    ) -> list[list[tuple[float, int]]]:
        """For each need, its best (score, enterprise index), best first, ties by id.

        Enterprises are scored chunk by chunk and only each need's best ``top`` are kept,
        so memory does not grow with the number of pairs.
        """
        rows = np.array([self.scorer.need_index[n.id] for n in needs], dtype=np.int64)
        kept: list[list[tuple[float, int]]] = [[] for _ in needs]
        if not len(rows):
            return kept
        for block, raw in self.scorer.blocks(rows):
            scores = np.round(raw.scores(weights), SCORE_DECIMALS)
            scores[~raw.allowed] = -np.inf
            scores[scores < min_score] = -np.inf
            for r in range(len(needs)):
                row = scores[r]
                candidates = np.flatnonzero(np.isfinite(row))
                if top is not None and len(candidates) > top:
                    kth = np.partition(row[candidates], -top)[-top]
                    candidates = candidates[row[candidates] >= kth]
                merged = kept[r] + [(float(row[c]), block.start + int(c)) for c in candidates]
                merged.sort(key=lambda x: (-x[0], x[1]))
                kept[r] = merged if top is None else merged[:top]
                if top is not None:  # keep the parts of the pairs that may be shown
                    survivors = np.array(
                        [j - block.start for _, j in kept[r] if j >= block.start], dtype=np.int64
                    )
                    self.scorer.remember(rows[r], block.start + survivors, raw, r, survivors)
        return kept

    def eligible_counts(self, needs: list[Need]) -> list[int]:
        allowed = self.scorer.enterprise_allowed
        return [
            int(allowed[:, self.scorer.territory_col[n.territory]].sum())
            if n.territory in self.scorer.territory_col
            else 0
            for n in needs
        ]

    def match(self, need_id: str, enterprise_id: str, weights: Weights) -> Match:
        self.check_enterprise(enterprise_id)
        return build_match(
            self.scorer, self.need(need_id), self.dataset.enterprise_by_id[enterprise_id], weights
        )

    def rank(self, options: RankOptions) -> Shortlist:
        """The shortlist the options describe."""
        needs = self.select_needs(options)
        if options.enterprise:
            return self._rank_enterprise(needs, options)
        from implant_match.stability import POOL

        pool_size = max(options.top, POOL) if options.stability else options.top
        pools = self.top_candidates(needs, options.weights, pool_size, 0.0)
        tops = [[c for c in pool[: options.top] if c[0] >= options.min_score] for pool in pools]
        stability = self._stability(needs, pools, options)
        shortlists = []
        for need, top, eligible in zip(needs, tops, self.eligible_counts(needs), strict=True):
            ranked = tuple(
                RankedMatch(
                    self.match(need.id, self.scorer.enterprises[j].id, options.weights),
                    rank,
                    stability.get((need.id, j)),
                )
                for rank, (_, j) in enumerate(top, start=1)
            )
            shortlists.append(NeedShortlist(need, self.is_priority(need), ranked, eligible))
        return Shortlist(tuple(shortlists), options)

    def _rank_enterprise(self, needs: list[Need], options: RankOptions) -> Shortlist:
        assert options.enterprise is not None
        j_target = self.scorer.enterprise_index[options.enterprise]
        full = self.top_candidates(needs, options.weights, None, 0.0)
        stability = self._stability(needs, full, options, only=j_target)
        found = []
        for need, candidates in zip(needs, full, strict=True):
            for rank, (score, j) in enumerate(candidates, start=1):
                if j == j_target and score >= options.min_score:
                    found.append((score, need, rank))
        found.sort(key=lambda x: (-x[0], x[1].id))
        view = tuple(
            RankedMatch(
                self.match(need.id, options.enterprise, options.weights),
                rank,
                stability.get((need.id, j_target)),
            )
            for _, need, rank in found[: options.top]
        )
        shown = {r.match.need_id for r in view}
        lists = tuple(NeedShortlist(n, self.is_priority(n), (), 0) for n in needs if n.id in shown)
        return Shortlist(lists, options, enterprise_view=view)

    def _stability(
        self,
        needs: list[Need],
        tops: list[list[tuple[float, int]]],
        options: RankOptions,
        only: int | None = None,
    ) -> dict[tuple[str, int], float]:
        if not options.stability or not needs:
            return {}
        from implant_match.stability import stability

        return stability(self.scorer, needs, tops, options, only=only)

    def explain(self, enterprise_id: str, need_id: str, weights: Weights) -> Match | Exclusion:
        """The full record of one pair, or why the hard rule keeps it out."""
        need = self.need(need_id)
        self.check_enterprise(enterprise_id)
        enterprise = self.dataset.enterprise_by_id[enterprise_id]
        if not enterprise.accepts(need.territory):
            territories = ", ".join(enterprise.target_territories or ())
            return Exclusion(
                need.id,
                enterprise.id,
                f"{enterprise.name} only wants to set up in {territories}; "
                f"the need is in {need.territory}.",
            )
        return self.match(need_id, enterprise_id, weights)
