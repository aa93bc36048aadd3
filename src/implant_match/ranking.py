"""Rank stage: for each need, its best enterprises (or, flipped, an enterprise's best needs).

Candidates are ordered by score, ties broken by enterprise id, so the same inputs give the
same shortlist whatever the order of the files' entries. Need priority orders the needs in
the report and is shown beside each need; it never reorders candidates within one need.
The hard rule holds throughout: an enterprise whose ``target_territories`` excludes the
need's territory is never ranked for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from implant_match.analysis import Analysis, analyse_dataset
from implant_match.dataset import Dataset
from implant_match.errors import UnknownIdError, shown_id, suggestion
from implant_match.explanation import Exclusion, Match, build_match, prepare_actor_links
from implant_match.lexicon import Lexicon
from implant_match.messages import N_
from implant_match.models import Need, Priority
from implant_match.runtime import fork_map, paused_gc, split
from implant_match.scoring import Scorer
from implant_match.selection import NO_STANDING, Selection, Standing, left_out_pairs, standing_of
from implant_match.stability import POOL, stability
from implant_match.topk import (
    PAIR_PARTS,
    Pool,
    best,
    block_scores,
    decode_scores,
    keys_of,
    merge,
    stacked_parts,
)
from implant_match.weights import Weights

if TYPE_CHECKING:
    from implant_match.embedding import Embedder
    from implant_match.embedding_store import EmbeddingStore

PARALLEL_PAIRS = 2_000_000  # below this many pairs, forking workers costs more than it saves
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
    # decisions, presence, --exclude/--include: which pairs compete at all
    selection: Selection = field(default_factory=Selection)


@dataclass(frozen=True)
class RankedMatch:
    """A match with its place: ``rank`` is 1 for the best enterprise within the need."""

    match: Match
    rank: int
    stability: float | None = None  # share of perturbed weightings keeping it in the top N
    standing: Standing = NO_STANDING  # its decision, presence and the team's fields


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

    @classmethod
    def join(cls, parts: Sequence[Shortlist], options: RankOptions) -> Shortlist:
        """The shortlist of consecutive runs of needs, ranked apart (need view only)."""
        if len(parts) == 1:  # also the enterprise view, never cut
            return parts[0]
        return cls(tuple(s for part in parts for s in part.needs), options)


T = TypeVar("T")


class Engine:
    """A dataset analysed once, ready to rank, explain and score many times."""

    def __init__(self, dataset: Dataset, lexicon: Lexicon | None = None, jobs: int = 1) -> None:
        """Analyse and index ``dataset`` (its texts analysed in ``jobs`` processes), with
        ``lexicon`` instead of the dataset's own when given."""
        self.dataset = dataset
        self.lexicon = dataset.lexicon if lexicon is None else lexicon
        with paused_gc():  # many small objects, no cycles
            self.analysis: Analysis = analyse_dataset(dataset, self.lexicon, jobs)
            self.scorer = Scorer(dataset, self.analysis)
        if not self.scorer.dense:  # large corpus: the vectors now hold what explanations need
            self.analysis.release_vectors_sources()
        self.embedder: Embedder | None = None  # set by ``use_meaning``

    def use_meaning(
        self, embedder: Embedder | None, store: EmbeddingStore | None = None, jobs: int = 1
    ) -> None:
        """Score the meaning part with ``embedder`` (None: every pair's meaning is 0).

        Every need and enterprise text is embedded once (those the ``store`` holds are read
        from it, new ones added to it), in ``jobs`` processes when there are many.
        """
        if embedder is None:
            self.embedder = None
            self.scorer.set_embeddings(None, None)
            return
        from implant_match.embedding import embed, enterprise_text, need_text

        texts = [need_text(n) for n in self.scorer.needs]
        texts += [enterprise_text(e) for e in self.scorer.enterprises]
        vectors = embed(embedder, texts, store, jobs)
        split_at = len(self.scorer.needs)
        self.scorer.set_embeddings(vectors[:split_at], vectors[split_at:])
        self.embedder = embedder

    # lookups with suggestions

    def need(self, need_id: str) -> Need:
        if need_id not in self.dataset.need_by_id:
            raise UnknownIdError(
                N_("unknown need '{id}'{suggestion}"),
                params={
                    "id": shown_id(need_id),
                    "suggestion": suggestion(need_id, self.dataset.need_by_id),
                },
            )
        return self.dataset.need_by_id[need_id]

    def check_enterprise(self, enterprise_id: str) -> None:
        if enterprise_id not in self.dataset.enterprise_by_id:
            raise UnknownIdError(
                N_("unknown enterprise '{id}'{suggestion}"),
                params={
                    "id": shown_id(enterprise_id),
                    "suggestion": suggestion(enterprise_id, self.dataset.enterprise_by_id),
                },
            )

    def check_territory(self, territory_id: str) -> None:
        if territory_id not in self.dataset.territories:
            raise UnknownIdError(
                N_("unknown territory '{id}'{suggestion}"),
                params={
                    "id": shown_id(territory_id),
                    "suggestion": suggestion(territory_id, self.dataset.territories),
                },
            )

    def check_theme(self, theme_id: str) -> None:
        if theme_id not in self.dataset.themes:
            raise UnknownIdError(
                N_("unknown theme '{id}'{suggestion}"),
                params={
                    "id": shown_id(theme_id),
                    "suggestion": suggestion(theme_id, self.dataset.themes),
                },
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
        wanted = set(options.need_ids)
        selected = [
            n
            for n in self.dataset.needs
            if (not wanted or n.id in wanted)
            and (options.territory is None or self.dataset.lies_in(n.territory, options.territory))
            and (theme_family is None or theme_family & set(n.themes))
        ]
        return sorted(selected, key=self.need_order)

    def need_order(self, need: Need) -> tuple[str, int, bool, str]:
        return (need.territory, _PRIORITY_ORDER[need.priority], not self.is_priority(need), need.id)

    def is_priority(self, need: Need) -> bool:
        wanted = self._priority_families.get(need.territory)
        return wanted is not None and not wanted.isdisjoint(need.themes)

    def descendants(self, theme_id: str) -> set[str]:
        out, todo = set(), [theme_id]
        while todo:
            current = todo.pop()
            if current not in out:
                out.add(current)
                todo.extend(self._children.get(current, ()))
        return out

    @cached_property
    def _children(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {}
        for theme in self.dataset.themes.values():
            if theme.parent:
                children.setdefault(theme.parent, []).append(theme.id)
        return children

    @cached_property
    def _priority_families(self) -> dict[str, frozenset[str]]:
        """Per territory, its priority themes and their descendants (computed once: report
        order asks for every need's priority)."""
        return {
            territory.id: frozenset().union(
                *(self.descendants(t) for t in territory.priority_themes)
            )
            for territory in self.dataset.territories.values()
        }

    # ranking

    def pool(
        self,
        needs: list[Need],
        weights: Weights,
        size: int,
        min_score: float = 0.0,
        target: int | None = None,
        banned: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Pool:
        """For each need, its ``size`` best enterprises with their raw parts.

        Enterprises are scored block by block and only each need's best ``size`` are kept
        (one vectorised selection per block), so memory does not grow with the number of
        pairs. With ``target`` (an enterprise row), its own score and how many enterprises
        rank ahead of it are kept too, wherever it ranks. ``banned`` (positions in
        ``needs``, enterprise rows) are pairs the selection leaves out (:meth:`banned`).
        """
        rows = np.array([self.scorer.need_index[n.id] for n in needs], dtype=np.int64)
        keys = np.full((len(rows), 0), -1, dtype=np.int64)
        parts = np.zeros((len(rows), 0, len(PAIR_PARTS)))
        pool = Pool(keys, parts)
        if not len(rows):
            return pool
        if target is not None:
            raw = self.scorer.raw(rows, np.array([target]))
            target_scores = block_scores(raw, weights, min_score)
            _ban(target_scores, banned, target, target + 1)
            pool.target_keys = keys_of(target_scores, np.array([target]))[:, 0]
            pool.target_parts = stacked_parts(raw)[:, 0]
            pool.target_ahead = np.zeros(len(rows), dtype=np.int64)
        for block, raw in self.scorer.blocks(rows):
            scores = block_scores(raw, weights, min_score)
            _ban(scores, banned, block.start, block.stop)
            columns = np.arange(block.start, block.stop)
            if pool.target_keys is None and keys.shape[1] >= size:
                # every row's pool is full: only the few scores that can beat its last
                # candidate are keyed and merged in
                merged = merge(keys, parts, scores, raw, columns)
                if merged is not None:
                    keys, parts = merged
                    continue
            block_keys = keys_of(scores, columns)
            if pool.target_keys is not None:
                pool.target_ahead += (block_keys > pool.target_keys[:, None]).sum(axis=1)
            pick = best(block_keys, size)
            keys = np.concatenate([keys, np.take_along_axis(block_keys, pick, axis=1)], axis=1)
            parts = np.concatenate(
                [
                    parts,
                    np.stack(
                        [np.take_along_axis(getattr(raw, p), pick, axis=1) for p in PAIR_PARTS],
                        axis=2,
                    ),
                ],
                axis=1,
            )
            keep = best(keys, size)
            keys = np.take_along_axis(keys, keep, axis=1)
            parts = np.take_along_axis(parts, keep[:, :, None], axis=1)
        pool.keys, pool.parts = keys, parts
        return pool

    def top_candidates(
        self,
        needs: list[Need],
        weights: Weights,
        top: int,
        min_score: float,
        selection: Selection | None = None,
    ) -> list[list[tuple[float, int]]]:
        """For each need, its best ``top`` (score, enterprise row), best first, ties by id,
        among the pairs ``selection`` keeps (default: what ``rank`` keeps by default)."""
        options = RankOptions(selection=selection or Selection())
        banned = self.banned(needs, options)
        return self.pool(needs, weights, top, min_score, banned=banned).lists()

    def _remember(self, needs: list[Need], pool: Pool, shown: int) -> None:
        """Keep the raw parts of the pairs to be shown, so explaining them costs no rescoring."""
        rows = pool.rows()
        for r, need in enumerate(needs):
            i = self.scorer.need_index[need.id]
            for k in range(min(shown, rows.shape[1])):
                if rows[r, k] >= 0:
                    self.scorer.pair_cache[(i, int(rows[r, k]))] = tuple(
                        float(v) for v in pool.parts[r, k]
                    )

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

    def rank(self, options: RankOptions, jobs: int = 1) -> Shortlist:
        """The shortlist the options describe (large ones ranked in ``jobs`` processes)."""
        if jobs > 1:
            return Shortlist.join(self.rank_parts(options, lambda part: part, jobs), options)
        needs = self.select_needs(options)
        if options.enterprise:
            return self._rank_enterprise(needs, options)
        pool_size = max(options.top, POOL) if options.stability else options.top
        pool = self.pool(needs, options.weights, pool_size, banned=self.banned(needs, options))
        self._remember(needs, pool, options.top)
        stability = self._stability(pool, np.arange(options.top)[None, :], options)
        lists = pool.lists(options.top)
        prepare_actor_links(
            self.scorer,
            ((j, need.territory) for need, top in zip(needs, lists, strict=True) for _, j in top),
        )
        shortlists = []
        for r, (need, candidates, eligible) in enumerate(
            zip(needs, lists, self.eligible_counts(needs), strict=True)
        ):
            ranked = tuple(
                RankedMatch(
                    self.match(need.id, self.scorer.enterprises[j].id, options.weights),
                    rank,
                    None if stability is None else float(stability[r, rank - 1]),
                    self.standing(need, self.scorer.enterprises[j].id),
                )
                for rank, (score, j) in enumerate(candidates, start=1)
                if score >= options.min_score
            )
            shortlists.append(NeedShortlist(need, self.is_priority(need), ranked, eligible))
        return Shortlist(tuple(shortlists), options)

    def rank_parts(
        self,
        options: RankOptions,
        produce: Callable[[Shortlist], T],
        jobs: int = 1,
        min_pairs: int | None = None,
    ) -> list[T]:
        """``produce`` applied to the shortlists of consecutive runs of needs, in ``jobs``
        processes.

        In the need view each need's candidates depend on that need alone, so the needs
        (in report order) are cut into ``jobs`` runs: this process ranks the first, forked
        workers the others and send back only ``produce``'s result. ``Shortlist.join`` of
        the shortlists, or the concatenation of their records, is the shortlist of
        ``rank(options)``. One run when ``jobs`` is 1, in the enterprise view, or for fewer
        than ``min_pairs`` pairs (``PARALLEL_PAIRS``).
        """
        needs = self.select_needs(options)
        if min_pairs is None:
            min_pairs = PARALLEL_PAIRS  # read at call time, so the module setting can be changed
        if (
            jobs <= 1
            or options.enterprise
            or len(needs) < 2
            or len(needs) * len(self.scorer.enterprises) < min_pairs
        ):
            return [produce(self.rank(options))]

        def rank_run(ids: Sequence[str]) -> T:
            return produce(self.rank(replace(options, need_ids=tuple(ids))))

        return fork_map(rank_run, split([n.id for n in needs], jobs), jobs)

    def _rank_enterprise(self, needs: list[Need], options: RankOptions) -> Shortlist:
        assert options.enterprise is not None
        j_target = self.scorer.enterprise_index[options.enterprise]
        pool = self.pool(
            needs,
            options.weights,
            max(options.top, POOL),
            target=j_target,
            banned=self.banned(needs, options),
        )
        assert pool.target_keys is not None and pool.target_ahead is not None
        assert pool.target_parts is not None
        # the target joins each need's pool (once), so that stability sees it competing
        inside = pool.keys == pool.target_keys[:, None]
        outside = ~inside.any(axis=1)
        pool.keys = np.concatenate(
            [pool.keys, np.where(outside, pool.target_keys, -1)[:, None]], axis=1
        )
        pool.parts = np.concatenate([pool.parts, pool.target_parts[:, None, :]], axis=1)
        position = np.where(outside, pool.keys.shape[1] - 1, inside.argmax(axis=1))
        stability = self._stability(pool, position[:, None], options)
        scores = decode_scores(pool.target_keys)
        found = [
            (float(scores[r]), need, int(pool.target_ahead[r]) + 1, r)
            for r, need in enumerate(needs)
            if pool.target_keys[r] >= 0 and scores[r] >= options.min_score
        ]
        found.sort(key=lambda x: (-x[0], x[1].id))
        found = found[: options.top]
        target_parts = pool.target_parts
        for _, need, _, r in found:
            self.scorer.pair_cache[(self.scorer.need_index[need.id], j_target)] = tuple(
                float(v) for v in target_parts[r]
            )
        view = tuple(
            RankedMatch(
                self.match(need.id, options.enterprise, options.weights),
                rank,
                None if stability is None else float(stability[r, 0]),
                self.standing(need, options.enterprise),
            )
            for _, need, rank, r in found
        )
        shown = {r.match.need_id for r in view}
        lists = tuple(NeedShortlist(n, self.is_priority(n), (), 0) for n in needs if n.id in shown)
        return Shortlist(lists, options, enterprise_view=view)

    def banned(
        self, needs: list[Need], options: RankOptions
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The pairs of ``needs`` the selection leaves out, as (position in ``needs``,
        enterprise row) arrays; None when there is none."""
        selection = options.selection
        selection.check(self.dataset.enterprise_by_id)
        pairs = left_out_pairs(
            needs, self.dataset.enterprise_by_id, self.dataset.decisions, selection
        )
        if not pairs:
            return None
        position = {n.id: r for r, n in enumerate(needs)}
        ordered = sorted(pairs)
        return (
            np.array([position[n] for n, _ in ordered], dtype=np.int64),
            np.array([self.scorer.enterprise_index[e] for _, e in ordered], dtype=np.int64),
        )

    def standing(self, need: Need, enterprise_id: str) -> Standing:
        """Where a pair stands: its decision, presence and the enterprise's own fields."""
        return standing_of(
            self.dataset.decisions, need, self.dataset.enterprise_by_id[enterprise_id]
        )

    def _stability(
        self, pool: Pool, positions: np.ndarray, options: RankOptions
    ) -> np.ndarray | None:
        if not options.stability or not len(pool.keys):
            return None
        return stability(
            pool,
            np.broadcast_to(positions, (len(pool.keys), positions.shape[1])),
            options.weights,
            options.top,
            options.stability_draws,
            options.seed,
        )

    def explain(self, enterprise_id: str, need_id: str, weights: Weights) -> Match | Exclusion:
        """The full record of one pair, or why the hard rule keeps it out."""
        need = self.need(need_id)
        self.check_enterprise(enterprise_id)
        enterprise = self.dataset.enterprise_by_id[enterprise_id]
        within = self.dataset.territory_ancestors.get(need.territory, ())
        if not enterprise.accepts(need.territory, within):
            territories = ", ".join(enterprise.target_territories or ())
            return Exclusion(
                need.id,
                enterprise.id,
                f"{enterprise.name} only wants to set up in {territories}; "
                f"the need is in {need.territory}.",
            )
        match = self.match(need_id, enterprise_id, weights)
        if self.embedder is None or not weights.meaning:
            return match
        from implant_match.embedding import closest_sentences

        pair = closest_sentences(
            self.embedder, [need.title, need.description], [enterprise.description]
        )
        return replace(match, closest=pair)


def _ban(
    scores: np.ndarray, banned: tuple[np.ndarray, np.ndarray] | None, start: int, stop: int
) -> None:
    """Set to -inf, in a block of enterprise rows [start, stop), the scores of the pairs
    the selection leaves out."""
    if banned is None:
        return
    rows, columns = banned
    inside = (columns >= start) & (columns < stop)
    if inside.any():
        scores[rows[inside], columns[inside] - start] = -np.inf
