"""Score stage: the fit of every enterprise to every need, as a sum of named parts.

Numbers only: one pair's explanation (its evidence, partners, competitors) is built from
these by :mod:`implant_match.explanation`, and worded by the output layer.

``score = themes + text + keywords + meaning + complementarity`` where each evidence part is
``100 x raw x weight`` (raw similarity in [0, 1], weights summing to 1) and
complementarity is ``-(share x duplication)`` of that subtotal: an enterprise that
duplicates a local actor of the need's territory loses part of its fit.

* **themes**: soft overlap through the taxonomy. Each need theme is matched to the
  enterprise's closest theme (1 exact, 0.8 per level when the enterprise is more specific,
  0.6 per level when broader, 0.35 for siblings): recall; each enterprise theme to the need's
  closest: precision. ``raw = recall^0.7 x precision^0.3 x spread``, so listing every
  theme of the taxonomy does not pay: ``spread`` is 1 for an enterprise whose themes fall in
  at most ``FREE_FAMILIES`` families (a family: a theme of the taxonomy without a parent, with
  the themes under it), else ``FREE_FAMILIES / families`` (a claim of every sector is
  worth little for any one of them).
* **text**: cosine of TF-IDF vectors of stems and concepts (lexicon groups, theme aliases),
  after typo folding; long texts that list every word of the field get a large norm, so
  each shared word counts for little.
* **keywords**: share of the need's keywords (weight 1) and themes (through their aliases,
  weight 0.5) found in the enterprise's text, damped for texts far longer than usual.
* **meaning**: cosine of the two texts' sentence embeddings, rescaled to [0, 1]
  (:mod:`implant_match.embedding`).
* **complementarity**: duplication of the closest local actor (shared themes x similar
  text); at or above ``COMPETITOR_THRESHOLD`` the actor is a competitor and the score drops.

All pairs are scored with whole-matrix operations (numpy, scipy.sparse), chunk by chunk;
:func:`reference_raw` scores one pair with plain Python from the same definitions, and a
test holds the two together.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from implant_match.analysis import Analysis
from implant_match.dataset import Dataset
from implant_match.evidence import (
    KeyTerm,
    key_term,
)
from implant_match.models import Enterprise, LocalActor, Need, Territory
from implant_match.weights import EVIDENCE_PARTS, Weights

if TYPE_CHECKING:
    pass

EXACT, NARROWER, BROADER, SIBLING = 1.0, 0.8, 0.6, 0.35
RECALL_EXPONENT = 0.7
CONCEPT_BOOST = 1.5  # weight of a lexicon group or theme named in a text, against a word
WORD_SHARE = 0.5  # the rest is character n-grams
TEXT_SCALE = 0.45  # a cosine this high already means the two texts speak of the same thing
KEYWORD_THEME_WEIGHT = 0.25
KEYWORD_ALIAS_ONLY_WEIGHT = 0.0
KEYWORD_MIN_TOTAL = 1.0  # below this total weight, as if key terms were missing
FREE_FAMILIES = 3  # theme families an enterprise may claim before its themes count less
FOCUS_BREADTH_FACTOR = 2.0  # texts naming up to twice the usual number of concepts...
FOCUS_MARGIN = 2.0  # ...plus two are not damped
DUP_TEXT_SCALE = 0.25
COMPETITOR_THRESHOLD = 0.6
PARTNER_THEME = 0.35
PARTNER_TEXT = 0.12
MAX_PARTNERS = 3
CHUNK = 1024
THEME_TABLE_LIMIT = 20_000_000  # cells of the theme-set overlap table
DENSE_LIMIT = 3_000_000  # cells: below, plain numpy arrays (and no scipy import at all)
SHORT_STEM_CHECK = 4  # evidence.SHORT_STEM: shorter stems are checked against the words

Matrix = Any  # numpy.ndarray or scipy.sparse.csr_matrix: both index rows and multiply
Cosines = tuple[np.ndarray, np.ndarray]  # word and character n-gram cosines of a block


def import_sparse() -> None:
    """Import scipy.sparse now (about a quarter of a second), for a caller that has time to
    overlap it and knows its data is large (large corpora are always scored sparse)."""
    import scipy.sparse  # noqa: F401


def product(left: Matrix, right: Matrix) -> np.ndarray:
    """``left @ right.T`` as a dense array, whatever the two representations."""
    result = left @ right.T
    return np.asarray(result.toarray() if hasattr(result, "toarray") else result)


# -- records --------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeLink:
    """How one need theme was met by one enterprise theme."""

    need_theme: str
    enterprise_theme: str
    how: str  # exact, narrower, broader, sibling
    similarity: float


# -- the taxonomy ---------------------------------------------------------------------


def theme_similarity(dataset: Dataset) -> tuple[list[str], np.ndarray]:
    """Matrix ``S[need_theme, enterprise_theme]`` of soft similarities through the tree.

    Over the themes the data uses (needs, enterprises, local actors, priorities), in the
    taxonomy's order: the others are in no pair, and a taxonomy of 100,000 themes made a
    dense matrix of 75 GiB. Built from each used theme's ancestors and siblings, in time
    proportional to the related pairs, not to every pair of themes; each entry is
    ``link_strength``'s value.
    """
    used = _used_themes(dataset)
    ids = [t for t in dataset.themes if t in used]
    index = {t: i for i, t in enumerate(ids)}
    lineage = _lineage(dataset, ids)
    matrix = np.zeros((len(ids), len(ids)), dtype=np.float64)
    siblings: dict[str, list[int]] = {}
    for theme in ids:
        b = index[theme]
        for level, ancestor in enumerate(lineage[theme], start=1):
            a = index.get(ancestor)
            if a is not None:
                matrix[a, b] = NARROWER**level  # the enterprise's theme is narrower
                matrix[b, a] = BROADER**level  # the enterprise's theme is broader
        if lineage[theme]:
            siblings.setdefault(lineage[theme][0], []).append(b)
    for group in siblings.values():
        if len(group) > 1:
            matrix[np.ix_(group, group)] = SIBLING
    np.fill_diagonal(matrix, EXACT)
    return ids, matrix


def _used_themes(dataset: Dataset) -> set[str]:
    used: set[str] = set()
    for need in dataset.needs:
        used.update(need.themes)
    for enterprise in dataset.enterprises:
        used.update(enterprise.themes)
    for territory in dataset.territories.values():
        used.update(territory.priority_themes)
        for actor in territory.local_actors:
            used.update(actor.themes)
    return used


def link_strength(
    need_theme: str, enterprise_theme: str, lineage: dict[str, list[str]]
) -> tuple[str, float]:
    """(how, similarity) of an enterprise theme for a need theme."""
    if need_theme == enterprise_theme:
        return "exact", EXACT
    up = lineage.get(enterprise_theme, [])
    if need_theme in up:
        return "narrower", NARROWER ** (up.index(need_theme) + 1)
    down = lineage.get(need_theme, [])
    if enterprise_theme in down:
        return "broader", BROADER ** (down.index(enterprise_theme) + 1)
    if up and down and up[0] == down[0]:
        return "sibling", SIBLING
    return "", 0.0


# -- the vectorised scorer ------------------------------------------------------------


@dataclass
class _NeedSide:
    """The need rows of the matrices, taken once for all the blocks of a ranking."""

    rows: np.ndarray
    vectors: Matrix
    grams: Matrix
    items: Matrix
    territory: np.ndarray
    valid: np.ndarray
    gram_slices: list[_GramSlice] | None = None  # made by the first sparse block
    meaning: np.ndarray | None = None  # their embeddings, when meaning is weighed


@dataclass(frozen=True)
class _GramSlice:
    """Some of the needs' n-gram rows as a dense (n-grams they hold x needs) array.

    The n-gram cosine of a block is then a sparse-times-dense product over the n-grams
    these needs hold only (a few thousand of the corpus's), instead of a sparse product
    whose output (nearly every pair shares some n-gram) is built entry by entry. Every
    cosine is the same sum, in the same order: the skipped terms are exact zeros.
    """

    rows: slice  # of the side's needs
    columns: np.ndarray  # corpus n-gram -> row of ``dense``, -1 when no need here holds it
    dense: np.ndarray


@dataclass
class RawParts:
    """Raw similarities for a block of needs x enterprises."""

    themes: np.ndarray
    text: np.ndarray
    keywords: np.ndarray
    meaning: np.ndarray
    duplication: np.ndarray
    allowed: np.ndarray  # the hard territory rule

    def scores(self, weights: Weights) -> np.ndarray:
        """``100 x sum(weight x part) x (1 - share x duplication)``, in place on one array."""
        w = weights.normalised()
        first, *rest = EVIDENCE_PARTS
        subtotal = w[first] * getattr(self, first)
        for part in rest:
            subtotal += w[part] * getattr(self, part)
        subtotal *= 100.0
        kept = w["complementarity"] * self.duplication
        np.subtract(1.0, kept, out=kept)
        subtotal *= kept
        return np.asarray(subtotal)


class Scorer:
    """Every pair's raw parts, computed with sparse and dense matrix products."""

    def __init__(self, dataset: Dataset, analysis: Analysis, dense: bool | None = None) -> None:
        self.dataset = dataset
        self.analysis = analysis
        self.pair_cache: dict[tuple[int, int], tuple[float, ...]] = {}
        self.actor_cache: dict[tuple[Any, str], Any] = {}
        self.link_cache: dict[tuple[tuple[str, ...], ...], tuple[list[ThemeLink], list[str]]] = {}
        self.theme_pair_cache: dict[tuple[str, str], tuple[str, float, str]] = {}
        self.closest_cache: dict[tuple[str, tuple[str, ...]], tuple[ThemeLink | None, bool]] = {}
        self.need_evidence: dict[str, _NeedEvidence] = {}
        # unit embeddings of the needs and the enterprises (rows as above), set by
        # ``set_embeddings``; without them the meaning part is 0 for every pair
        self.need_embeddings: np.ndarray | None = None
        self.enterprise_embeddings: np.ndarray | None = None
        self.link_texts: dict[ThemeLink, str] = {}
        self.needs: list[Need] = list(dataset.needs)
        self.enterprises: list[Enterprise] = list(dataset.enterprises)
        self.need_index = {n.id: i for i, n in enumerate(self.needs)}
        self.enterprise_index = {e.id: j for j, e in enumerate(self.enterprises)}
        terms = sorted(
            set().union(
                *(
                    doc.terms  # a union over dictionaries reads their keys in C
                    for doc in (
                        *analysis.needs.values(),
                        *analysis.enterprises.values(),
                        *analysis.actors.values(),
                    )
                )
            )
            | {t for items in analysis.need_keywords.values() for _, ts in items for t in ts}
            | {f"#{t}" for t in dataset.themes}
        )
        self.vocab = {t: i for i, t in enumerate(terms)}
        table = analysis.grams
        cells = (len(self.needs) + len(self.enterprises)) * (len(terms) + len(table.vocabulary))
        self.dense = dense if dense is not None else cells <= DENSE_LIMIT
        weight, unseen = analysis.idf.get, analysis.max_idf  # analysis.weight, inlined
        self.idf = np.array([weight(t, unseen) for t in terms], dtype=np.float64)
        self.is_concept = np.array([t[0] in "@#" for t in terms], dtype=bool)
        self.boost = np.where(self.is_concept, CONCEPT_BOOST, 1.0)

        need_docs = [analysis.needs[n.id] for n in self.needs]
        ent_docs = [analysis.enterprises[e.id] for e in self.enterprises]
        self.need_vectors = self._tfidf([d.terms for d in need_docs])
        ent_terms = [d.terms for d in ent_docs]
        ent_columns = self._columns(ent_terms)  # also tell which key terms each one holds
        self.enterprise_vectors = self._tfidf(ent_terms, ent_columns)
        # n-gram rows: the analysis holds needs first, then enterprises, in dataset order
        gram_idf = np.array([weight(g, unseen) for g in table.vocabulary], dtype=np.float64)
        values = np.log(table.counts, dtype=np.float64)
        values += 1.0
        values *= gram_idf[table.indices]
        n_needs, split = len(self.needs), int(table.indptr[len(self.needs)])
        self.need_grams = self._unit_csr(
            table.indptr[: n_needs + 1], table.indices[:split], values[:split], len(gram_idf)
        )
        self.enterprise_grams = self._unit_csr(
            table.indptr[n_needs:] - split, table.indices[split:], values[split:], len(gram_idf)
        )
        del values
        self.breadth = breadth = self._breadth(ent_columns)
        self.reference_breadth = float(np.median(breadth)) if len(breadth) else 1.0
        self.focus = focus(breadth, self.reference_breadth)

        self.theme_ids, self.theme_sim = theme_similarity(dataset)
        theme_col = {t: i for i, t in enumerate(self.theme_ids)}
        self.need_themes = _incidence([n.themes for n in self.needs], theme_col)
        self.enterprise_themes = _incidence([e.themes for e in self.enterprises], theme_col)
        self.theme_families = np.array(
            [theme_families(e.themes, self.lineage) for e in self.enterprises], dtype=np.float64
        )
        self.theme_focus = spread(self.theme_families)
        # few distinct theme sets: their overlaps are computed once, then looked up per pair
        self.need_theme_set, need_sets = _distinct_rows(self.need_themes)
        self.enterprise_theme_set, ent_sets = _distinct_rows(self.enterprise_themes)
        self.theme_table = (
            np.ascontiguousarray(soft_overlap(need_sets, ent_sets, self.theme_sim))
            if len(need_sets) * len(ent_sets) <= THEME_TABLE_LIMIT
            else None
        )
        self._keyword_matrices(ent_columns)
        self._actor_matrices(theme_col)

        territory_ids = list(dataset.territories)
        self.territory_col = {t: i for i, t in enumerate(territory_ids)}
        self.need_territory = np.array(
            [self.territory_col.get(n.territory, -1) for n in self.needs], dtype=np.int64
        )
        allowed = np.ones((len(self.enterprises), len(territory_ids)), dtype=bool)
        within = dataset.territory_ancestors  # targeting a région admits its métropoles
        for j, enterprise in enumerate(self.enterprises):
            if enterprise.target_territories is not None:
                allowed[j] = [enterprise.accepts(t, within.get(t, ())) for t in territory_ids]
        self.enterprise_allowed = allowed

    def set_embeddings(self, needs: np.ndarray | None, enterprises: np.ndarray | None) -> None:
        """Embeddings of every need and enterprise (dataset order), or None to drop them;
        raw parts computed before are forgotten."""
        self.need_embeddings, self.enterprise_embeddings = needs, enterprises
        self.pair_cache.clear()

    # construction helpers

    def matrix(self, rows: Any, cols: Any, values: Any, shape: tuple[int, int]) -> Matrix:
        """A dense array for small corpora, a CSR matrix (scipy.sparse) for large ones."""
        if self.dense:
            out = np.zeros(shape, dtype=np.float64)
            if len(rows):
                np.add.at(
                    out,
                    (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)),
                    values,
                )
            return out
        from scipy import sparse

        return sparse.csr_matrix((values, (rows, cols)), shape=shape)

    def _columns(self, docs: Sequence[dict[str, float]]) -> tuple[np.ndarray, np.ndarray]:
        """Compressed rows of the documents' terms: (indptr, vocabulary column of each)."""
        indptr = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum([len(doc) for doc in docs], out=indptr[1:])
        cols = np.fromiter(
            map(self.vocab.__getitem__, itertools.chain.from_iterable(docs)),
            dtype=np.int64,
            count=int(indptr[-1]),
        )
        return indptr, cols

    def _tfidf(
        self,
        docs: Sequence[dict[str, float]],
        columns: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Matrix:
        """Rows of ``(1 + log tf) x idf`` (concepts boosted), scaled to unit length."""
        indptr, cols = columns or self._columns(docs)
        tfs = np.fromiter(
            itertools.chain.from_iterable(doc.values() for doc in docs),
            dtype=np.float64,
            count=len(cols),
        )
        values = (1.0 + np.log(tfs)) * self.idf[cols] * self.boost[cols]
        return self._unit_csr(indptr, cols, values, len(self.vocab))

    def _unit_csr(
        self, indptr: np.ndarray, indices: np.ndarray, values: np.ndarray, width: int
    ) -> Matrix:
        """Compressed rows (values taken over, scaled in place) with each row of unit length."""
        height = len(indptr) - 1
        filled = np.flatnonzero(np.diff(indptr) > 0)
        norms = np.ones(height)
        if len(filled):
            norms[filled] = np.sqrt(np.add.reduceat(values * values, indptr[filled]))
            norms[norms == 0] = 1.0
        values /= np.repeat(norms, np.diff(indptr))
        if self.dense:
            rows = _row_of_each(indptr)
            return self.matrix(rows, indices, values, (height, width))
        from scipy import sparse

        return sparse.csr_matrix((values, indices, indptr), shape=(height, width))

    def _breadth(self, columns: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """How many distinct themes and lexicon groups each document speaks of."""
        indptr, cols = columns
        return np.bincount(
            _row_of_each(indptr),
            weights=self.is_concept[cols].astype(np.float64),
            minlength=len(indptr) - 1,
        )

    def _presence(self, columns: tuple[np.ndarray, np.ndarray]) -> Matrix:
        """Which key-term items' terms each document holds, from its term columns."""
        indptr, cols = columns
        item_of = np.full(len(self.vocab), -1, dtype=np.int64)
        for term, item in self.item_vocab.items():
            item_of[self.vocab[term]] = item
        items = item_of[cols]
        held = items >= 0
        return self.matrix(
            _row_of_each(indptr)[held],
            items[held],
            np.ones(int(held.sum())),
            (len(indptr) - 1, len(self.item_vocab)),
        )

    def _keyword_matrices(self, ent_columns: tuple[np.ndarray, np.ndarray]) -> None:
        # a key term is an item: its concepts and its stems; needs share many items (the
        # same keyword, the same theme), so each distinct item is tested once per enterprise
        items: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = {}
        owners, columns, item_weights = [], [], []

        def add(i: int, concepts: tuple[str, ...], stems: tuple[str, ...], weight: float) -> None:
            owners.append(i)
            columns.append(items.setdefault((concepts, stems), len(items)))
            item_weights.append(weight)

        self.key_terms: dict[str, tuple[KeyTerm, ...]] = {}
        for i, need in enumerate(self.needs):
            terms = self.key_terms[need.id] = need_key_terms(self.analysis, need.id)
            for term in terms:
                add(i, term.concepts, term.stems, 1.0)
            alias_weight = KEYWORD_THEME_WEIGHT if terms else KEYWORD_ALIAS_ONLY_WEIGHT
            for theme in need.themes:
                add(i, (f"#{theme}",), (), alias_weight)
        concept_rows = [list(concepts) for concepts, _ in items]
        stem_rows = [list(stems) for _, stems in items]
        # key terms use a few hundred words: products run over those columns only
        self.item_vocab = {
            t: i
            for i, t in enumerate(sorted({t for row in (*concept_rows, *stem_rows) for t in row}))
        }
        self.item_concepts = self._item_matrix(concept_rows, fraction=False)
        self.item_stems = self._item_matrix(stem_rows, fraction=True)
        self.enterprise_presence = self._presence(ent_columns)
        weights = np.array(item_weights)
        totals = (
            np.bincount(owners, weights=weights, minlength=len(self.needs))
            if owners
            else np.zeros(len(self.needs))
        )
        # a need with few key terms gets little from this part: one alias is thin evidence
        totals = np.maximum(totals, KEYWORD_MIN_TOTAL)
        self.need_items = self.matrix(
            owners,
            columns,
            weights / totals[owners] if owners else [],
            (len(self.needs), len(items)),
        )

    def _item_matrix(self, rows: list[list[str]], fraction: bool) -> Matrix:
        r, c, v = [], [], []
        for i, terms in enumerate(rows):
            for term in terms:
                r.append(i)
                c.append(self.item_vocab[term])
                v.append(1.0 / len(terms) if fraction else 1.0)
        return self.matrix(r, c, v, (len(rows), len(self.item_vocab)))

    def _actor_matrices(self, theme_col: dict[str, int]) -> None:
        self.actors: list[tuple[Territory, Any]] = [
            (territory, actor)
            for territory in self.dataset.territories.values()
            for actor in territory.local_actors
        ]
        self.actor_vectors = self._tfidf(
            [self.analysis.actors[(t.id, a.id)].terms for t, a in self.actors]
        )
        self.actor_themes = _incidence([a.themes for _, a in self.actors], theme_col)
        self.actor_territory = np.array(
            [list(self.dataset.territories).index(t.id) for t, _ in self.actors], dtype=np.int64
        )
        # per territory, the actors that count for its needs: its own and its ancestors'
        column = {t: k for k, t in enumerate(self.dataset.territories)}
        self.actor_scope = [
            np.isin(self.actor_territory, [column[t] for t in self.actor_scope_ids(territory)])
            for territory in self.dataset.territories
        ]

    def actor_scope_ids(self, territory_id: str) -> tuple[str, ...]:
        """The territory and those it lies in, nearest first: whose actors count for it."""
        return (territory_id, *self.dataset.territory_ancestors.get(territory_id, ()))

    # scoring

    def theme_links(
        self, need_themes: tuple[str, ...], enterprise_themes: tuple[str, ...]
    ) -> tuple[list[ThemeLink], list[str]]:
        """How each need theme is met (its closest enterprise theme), and which are missed."""
        key = (need_themes, enterprise_themes)
        if key not in self.link_cache:
            links, missing = [], []
            for theme in need_themes:
                link, met = self._closest(theme, enterprise_themes)
                if link is not None:
                    links.append(link)
                if not met:
                    missing.append(theme)
            self.link_cache[key] = (links, missing)
        return self.link_cache[key]

    def _closest(
        self, need_theme: str, enterprise_themes: tuple[str, ...]
    ) -> tuple[ThemeLink | None, bool]:
        """The link of a need theme to its closest enterprise theme (None when none is
        related) and whether that meets it (exactly or more specifically); once per need
        theme and set of enterprise themes, which recur across the pairs of a ranking."""
        key = (need_theme, enterprise_themes)
        found = self.closest_cache.get(key)
        if found is None:
            how, strength, other = max(
                (self._link(need_theme, u) for u in enterprise_themes),
                key=lambda x: (x[1], x[2] == need_theme, x[2]),
            )
            link = ThemeLink(need_theme, other, how, strength) if strength > 0 else None
            found = self.closest_cache[key] = (link, how in ("exact", "narrower"))
        return found

    def _link(self, need_theme: str, enterprise_theme: str) -> tuple[str, float, str]:
        """``link_strength`` of two themes and the enterprise theme, once per theme pair."""
        key = (need_theme, enterprise_theme)
        found = self.theme_pair_cache.get(key)
        if found is None:
            found = (*link_strength(need_theme, enterprise_theme, self.lineage), enterprise_theme)
            self.theme_pair_cache[key] = found
        return found

    @cached_property
    def lineage(self) -> dict[str, list[str]]:
        return _lineage(self.dataset)

    def territory_actors(self, territory_id: str) -> tuple[list[int], np.ndarray]:
        """Rows of a territory's actors and their text vectors as a dense (terms x actors)."""
        key = ("territory", territory_id)
        if key not in self.actor_cache:
            k = self.territory_col[territory_id]
            rows = np.flatnonzero(self.actor_scope[k]).tolist()
            block = self.actor_vectors[rows]
            dense = block.toarray() if hasattr(block, "toarray") else np.asarray(block)
            self.actor_cache[key] = (rows, np.ascontiguousarray(dense.T))
        result: tuple[list[int], np.ndarray] = self.actor_cache[key]
        return result

    def pair_parts(self, i: int, j: int) -> tuple[float, float, float, float, float]:
        """(themes, text, keywords, meaning, duplication) of one pair, from the cache or
        computed."""
        cached = self.pair_cache.get((i, j))
        if cached is None:
            raw = self.raw(np.array([i]), slice(j, j + 1))
            cached = (
                float(raw.themes[0, 0]),
                float(raw.text[0, 0]),
                float(raw.keywords[0, 0]),
                float(raw.meaning[0, 0]),
                float(raw.duplication[0, 0]),
            )
            self.pair_cache[(i, j)] = cached
        return cached  # type: ignore[return-value]

    def raw(self, need_rows: np.ndarray, ent_rows: slice | np.ndarray) -> RawParts:
        """Raw parts for the needs ``need_rows`` x the enterprises in ``ent_rows``."""
        return self._raw(self._need_side(need_rows), ent_rows)

    def _need_side(self, need_rows: np.ndarray) -> _NeedSide:
        territory = self.need_territory[need_rows]
        return _NeedSide(
            need_rows,
            self.need_vectors[need_rows],
            self.need_grams[need_rows],
            self.need_items[need_rows],
            territory,
            territory >= 0,
            meaning=None if self.need_embeddings is None else self.need_embeddings[need_rows],
        )

    def _cosines(self, side: _NeedSide, ent_rows: slice | np.ndarray) -> Cosines:
        """The two products of a block: word and character n-gram cosines."""
        words = product(side.vectors, self.enterprise_vectors[ent_rows])
        block = self.enterprise_grams[ent_rows]
        if self.dense:
            return words, product(side.grams, block)
        from scipy import sparse

        if side.gram_slices is None:
            side.gram_slices = gram_slices(side.grams)
        grams = np.empty((side.grams.shape[0], block.shape[0]))
        for piece in side.gram_slices:
            # the block's entries in the n-grams these needs hold, renumbered (in order)
            columns = piece.columns[block.indices]
            held = columns >= 0
            kept = np.zeros(len(held) + 1, dtype=np.int64)
            np.cumsum(held, out=kept[1:])
            narrowed = sparse.csr_matrix(
                (block.data[held], columns[held], kept[block.indptr]),
                shape=(block.shape[0], piece.dense.shape[0]),
            )
            grams[piece.rows] = (narrowed @ piece.dense).T
        return words, grams

    def _raw(
        self, side: _NeedSide, ent_rows: slice | np.ndarray, cosines: Cosines | None = None
    ) -> RawParts:
        if self.theme_table is not None:
            # one flat gather (a 2-D fancy index costs twice as much)
            at = (self.need_theme_set[side.rows] * self.theme_table.shape[1])[:, None]
            at = at + self.enterprise_theme_set[ent_rows][None, :]
            themes = np.take(self.theme_table.reshape(-1), at)
        else:
            themes = soft_overlap(
                self.need_themes[side.rows], self.enterprise_themes[ent_rows], self.theme_sim
            )
        themes = themes * self.theme_focus[ent_rows][None, :]
        focus = self.focus[ent_rows][None, :]
        text = text_similarity(*(cosines or self._cosines(side, ent_rows)))
        text *= focus

        presence = self.enterprise_presence[ent_rows]
        concept_hit = presence @ self.item_concepts.T
        stem_hit = presence @ self.item_stems.T
        if self.dense:
            credit = np.maximum(np.minimum(concept_hit, 1.0), np.minimum(stem_hit, 1.0))
        else:  # stay sparse: most enterprises show none of most key terms
            credit = concept_hit.minimum(1.0).maximum(stem_hit.minimum(1.0))
        keywords = product(side.items, credit)
        keywords *= focus
        np.minimum(keywords, 1.0, out=keywords)

        meaning = self._meaning(side, ent_rows, themes.shape)

        # per enterprise and territory first (few territories), then one gather per need
        dup_by_territory = self._duplication(ent_rows)  # (ents, territories)
        dup_by_territory[dup_by_territory < COMPETITOR_THRESHOLD] = 0.0
        allowed_by_territory = self.enterprise_allowed[ent_rows]
        if side.valid.all() and dup_by_territory.shape[1]:
            duplication = dup_by_territory.T[side.territory]
            allowed = allowed_by_territory.T[side.territory]
        else:
            duplication = np.zeros_like(themes)
            allowed = np.zeros_like(themes, dtype=bool)
            if dup_by_territory.shape[1]:
                duplication[side.valid] = dup_by_territory.T[side.territory[side.valid]]
                allowed[side.valid] = allowed_by_territory.T[side.territory[side.valid]]
        return RawParts(themes, text, keywords, meaning, duplication, allowed)

    def _meaning(
        self, side: _NeedSide, ent_rows: slice | np.ndarray, shape: tuple[int, ...]
    ) -> np.ndarray:
        """The meaning part of a block: the embeddings' cosines, mapped to [0, 1]."""
        if side.meaning is None or self.enterprise_embeddings is None:
            return np.zeros(shape)
        from implant_match.embedding import meaning_similarity

        cosine = side.meaning @ self.enterprise_embeddings[ent_rows].T
        return meaning_similarity(cosine.astype(np.float64))

    def _duplication(self, ent_rows: slice | np.ndarray) -> np.ndarray:
        n_ent = self.enterprise_themes[ent_rows].shape[0]
        n_terr = len(self.territory_col)
        if not self.actors:
            return np.zeros((n_ent, n_terr))
        dup = duplication(
            self.enterprise_themes[ent_rows],
            self.actor_themes,
            product(self.enterprise_vectors[ent_rows], self.actor_vectors),
        )
        dup = apply_declarations(dup, declared_kinds(self, ent_rows, None))
        out = np.zeros((n_ent, n_terr))
        for k in range(n_terr):
            cols = self.actor_scope[k]
            if cols.any():
                out[:, k] = dup[:, cols].max(axis=1)
        return out

    def blocks(
        self, need_rows: np.ndarray, chunk: int | None = None
    ) -> Iterator[tuple[slice, RawParts]]:
        """Raw parts for ``need_rows`` x all enterprises, ``chunk`` (``CHUNK``) at a time."""
        chunk = chunk or CHUNK  # read at call time, so the module setting can be changed
        side = self._need_side(need_rows)
        blocks = [
            slice(start, min(start + chunk, len(self.enterprises)))
            for start in range(0, len(self.enterprises), chunk)
        ]
        if len(blocks) < 2:
            for rows in blocks:
                yield rows, self._raw(side, rows)
            return
        # The sparse products (most of a block's cost) run in C without the GIL: a worker
        # thread computes the next block's while this one finishes the current block.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1) as worker:
            ahead = worker.submit(self._cosines, side, blocks[0])
            for k, rows in enumerate(blocks):
                cosines = ahead.result()
                if k + 1 < len(blocks):
                    ahead = worker.submit(self._cosines, side, blocks[k + 1])
                yield rows, self._raw(side, rows, cosines)


GRAM_DENSE_CELLS = 4_000_000  # cells (32 MiB) of one dense slice of the needs' n-grams


def gram_slices(grams: Matrix) -> list[_GramSlice]:
    """The needs' n-gram rows (CSR, canonical) as dense slices of at most
    ``GRAM_DENSE_CELLS`` cells (a slice is at least one need)."""
    height, width = grams.shape
    held = len(np.unique(grams.indices))
    count = max(1, min(height, -(-held * height // GRAM_DENSE_CELLS)))
    bounds = [height * k // count for k in range(count + 1)]
    out = []
    for start, stop in itertools.pairwise(bounds):
        part = grams[start:stop]
        used = np.unique(part.indices)
        columns = np.full(width, -1, dtype=np.int64)
        columns[used] = np.arange(len(used))
        dense = np.zeros((len(used), stop - start))
        dense[columns[part.indices], _row_of_each(part.indptr)] = part.data
        out.append(_GramSlice(slice(start, stop), columns, dense))
    return out


def text_similarity(word_cosine: np.ndarray, gram_cosine: np.ndarray) -> np.ndarray:
    """Blend of word and character n-gram cosines, scaled so that close texts reach 1.

    Computed in place: the two cosine arrays are consumed.
    """
    blend = np.multiply(word_cosine, WORD_SHARE, out=word_cosine)
    blend += np.multiply(gram_cosine, 1 - WORD_SHARE, out=gram_cosine)
    blend /= TEXT_SCALE
    return np.asarray(np.minimum(blend, 1.0, out=blend))


def _incidence(theme_lists: Sequence[Sequence[str]], col: dict[str, int]) -> np.ndarray:
    """1 where row ``i`` lists theme ``col``, set in one array assignment."""
    matrix = np.zeros((len(theme_lists), len(col)), dtype=np.float64)
    cells = [(i, col[t]) for i, themes in enumerate(theme_lists) for t in themes if t in col]
    if cells:
        rows, cols = zip(*cells, strict=True)
        matrix[list(rows), list(cols)] = 1.0
    return matrix


def _row_of_each(indptr: np.ndarray) -> np.ndarray:
    """The row of each entry of compressed rows."""
    return np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))


def _distinct_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of each row among the distinct rows, the distinct rows)."""
    if not len(matrix):
        return np.zeros(0, dtype=np.int64), matrix
    if not matrix.shape[1]:  # every row is the same empty row
        return np.zeros(len(matrix), dtype=np.int64), matrix[:1]
    # each row's bytes as one value: a 1-D unique, much faster than ``axis=0`` (the order
    # of the distinct rows differs, which no caller reads)
    rows = np.ascontiguousarray(matrix)
    packed = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).reshape(-1)
    _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
    return inverse.reshape(-1), rows[first]


def soft_overlap(need_themes: np.ndarray, ent_themes: np.ndarray, sim: np.ndarray) -> np.ndarray:
    """``recall^a x precision^(1-a)`` of theme sets through the similarity matrix."""
    n_count = need_themes.sum(axis=1, keepdims=True)
    e_count = ent_themes.sum(axis=1, keepdims=True)
    # best[t, j]: how well enterprise j covers theme t; back[u, i]: how well need i covers u
    best = (
        np.stack([(ent_themes * sim[t]).max(axis=1) for t in range(sim.shape[0])])
        if sim.size
        else np.zeros((0, ent_themes.shape[0]))
    )
    back = (
        np.stack([(need_themes * sim[:, u]).max(axis=1) for u in range(sim.shape[0])])
        if sim.size
        else np.zeros((0, need_themes.shape[0]))
    )
    recall = (need_themes @ best) / np.maximum(n_count, 1)
    precision = ((ent_themes @ back) / np.maximum(e_count, 1)).T
    return np.asarray(np.power(recall, RECALL_EXPONENT) * np.power(precision, 1 - RECALL_EXPONENT))


def theme_families(themes: Iterable[str], lineage: dict[str, list[str]]) -> int:
    """How many families of the taxonomy ``themes`` fall in (a theme's family: its farthest
    ancestor, or itself when it has none)."""
    return len({(lineage.get(t) or [t])[-1] for t in themes})


def spread(families: np.ndarray) -> np.ndarray:
    """Factor of the themes part for enterprises claiming themes in many families: 1 up to
    ``FREE_FAMILIES``, then ``FREE_FAMILIES / families``."""
    return np.asarray(np.minimum(1.0, FREE_FAMILIES / np.maximum(families, 1.0)))


def focus(breadth: np.ndarray, reference: float) -> np.ndarray:
    """Damping of text evidence for texts that speak of everything (keyword stuffing).

    1 up to ``FOCUS_BREADTH_FACTOR`` x the median breadth (plus a margin), then inversely
    proportional: a text naming every theme of the field proves nothing about any one.
    """
    limit = max(reference, 1.0) * FOCUS_BREADTH_FACTOR + FOCUS_MARGIN
    return np.asarray(np.minimum(1.0, limit / np.maximum(breadth, 1.0)))


def duplication(ent_themes: np.ndarray, actor_themes: np.ndarray, cosine: np.ndarray) -> np.ndarray:
    """How much each enterprise duplicates each actor: shared themes x similar text."""
    inter = ent_themes @ actor_themes.T
    union = ent_themes.sum(axis=1)[:, None] + actor_themes.sum(axis=1)[None, :] - inter
    jaccard = inter / np.maximum(union, 1.0)
    return np.asarray(jaccard * (0.4 + 0.6 * np.minimum(1.0, cosine / DUP_TEXT_SCALE)))


@dataclass(frozen=True)
class _NeedEvidence:
    """What the explanations of a need's candidates share, gathered once per need."""

    forms: dict[str, str]  # stem -> the word written for it
    keywords: tuple[KeyTerm, ...]
    theme_terms: tuple[str, ...]  # "#theme" for each of its themes


def need_key_terms(analysis: Analysis, need_id: str) -> tuple[KeyTerm, ...]:
    """A need's key terms as the evidence rules read them; those with no significant word
    and no lexicon form (only generic words) are left out."""
    terms = (key_term(analysis, k, ts) for k, ts in analysis.need_keywords[need_id])
    return tuple(t for t in terms if t.stems or t.concepts)


def _lineage(dataset: Dataset, themes: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Each theme's ancestors, nearest first (of ``themes``, or of every theme)."""
    parent = {t.id: t.parent for t in dataset.themes.values()}
    out: dict[str, list[str]] = {}
    for theme in parent if themes is None else themes:
        chain: list[str] = []
        seen = {theme}  # a set: a long chain is walked in linear time
        current = parent.get(theme)
        while current is not None and current in parent and current not in seen:
            chain.append(current)
            seen.add(current)
            current = parent.get(current)
        out[theme] = chain
    return out


# -- what local actors declare --------------------------------------------------------
#
# A local actor may declare itself a partner or a competitor of enterprises (named, or by
# theme) and may say it is saturated (it cannot meet the demand). Declarations override
# the duplication computed from themes and text, for the ranking and the explanations
# alike: an enterprise declaration wins over a theme declaration, which wins over the
# saturated flag; among declarations of the same kind, the last one listed.

NOT_DECLARED, NO_DUPLICATION, DECLARED_COMPETITOR, SATURATED = 0, 1, 2, 3


@dataclass(frozen=True)
class _ActorRules:
    """One actor's declarations, ready to apply to rows of enterprises."""

    row: int  # in scorer.actors
    saturated: bool
    themes: tuple[tuple[int, str, np.ndarray], ...]  # (kind, theme id, theme indicator)
    enterprises: dict[int, tuple[int, str]]  # enterprise row -> (kind, enterprise id)


def _kind(relation: str) -> int:
    return DECLARED_COMPETITOR if relation == "competitor" else NO_DUPLICATION


def _actor_rules(scorer: Scorer) -> list[_ActorRules]:
    """The declarations of every actor that makes some (computed once per scorer)."""
    key = ("declared", "")
    found = scorer.actor_cache.get(key)
    if found is None:
        lineage = scorer.lineage
        theme_ids = scorer.theme_ids
        found = []
        for row, (_, actor) in enumerate(scorer.actors):
            if not actor.relations and not actor.saturated:
                continue
            themes, enterprises = [], {}
            for declared in actor.relations:
                kind = _kind(declared.relation.value)
                for theme in declared.themes:
                    narrower = np.array(
                        [float(t == theme or theme in lineage.get(t, ())) for t in theme_ids]
                    )
                    themes.append((kind, theme, narrower))
                for enterprise_id in declared.enterprises:
                    j = scorer.enterprise_index.get(enterprise_id)
                    if j is not None:
                        enterprises[j] = (kind, enterprise_id)
            found.append(_ActorRules(row, actor.saturated, tuple(themes), enterprises))
        scorer.actor_cache[key] = found
    rules: list[_ActorRules] = found
    return rules


def declared_kinds(
    scorer: Scorer, ent_rows: slice | np.ndarray, actor_rows: list[int] | None
) -> np.ndarray | None:
    """For enterprises ``ent_rows`` x actors ``actor_rows`` (None: all), which declaration
    applies: ``NOT_DECLARED``, ``NO_DUPLICATION`` (a partner), ``DECLARED_COMPETITOR`` or
    ``SATURATED``; None when no actor declares anything."""
    rules = _actor_rules(scorer)
    if not rules:
        return None
    rows = np.arange(len(scorer.enterprises))[ent_rows]
    columns = (
        {r: k for k, r in enumerate(actor_rows)}
        if actor_rows is not None
        else {r: r for r in range(len(scorer.actors))}
    )
    kinds = np.zeros((len(rows), len(columns)), dtype=np.int8)
    ent_themes = np.asarray(scorer.enterprise_themes[rows])
    for rule in rules:
        k = columns.get(rule.row)
        if k is None:
            continue
        if rule.saturated:
            kinds[:, k] = SATURATED
        for kind, _, narrower in rule.themes:
            kinds[(ent_themes @ narrower) > 0, k] = kind
        if rule.enterprises:
            position = {int(j): e for e, j in enumerate(rows.tolist())}
            for j, (kind, _) in rule.enterprises.items():
                if j in position:
                    kinds[position[j], k] = kind
    return kinds


def apply_declarations(dup: np.ndarray, kinds: np.ndarray | None) -> np.ndarray:
    """Duplication as the declarations make it: none with a partner or a saturated actor,
    at least ``COMPETITOR_THRESHOLD`` with a declared competitor."""
    if kinds is None:
        return dup
    out = np.where((kinds == NO_DUPLICATION) | (kinds == SATURATED), 0.0, dup)
    return np.where(kinds == DECLARED_COMPETITOR, np.maximum(out, COMPETITOR_THRESHOLD), out)


def declared_links(kinds: np.ndarray, computed: np.ndarray) -> np.ndarray:
    """The declarations worth naming among the links: a declared partner or competitor
    always; a saturated actor only where the enterprise would otherwise compete with it
    (saturation concerns those doing the same work, not every enterprise)."""
    naming: np.ndarray = np.where(
        (kinds == SATURATED) & (computed < COMPETITOR_THRESHOLD), NOT_DECLARED, kinds
    )
    return naming


def declaration_of(scorer: Scorer, actor: LocalActor, j: int) -> tuple[str | None, str | None]:
    """(declaration, what it names) that applies between ``actor`` and enterprise row
    ``j``: ("partner", enterprise or theme id), ("competitor", ...), ("saturated", None)."""
    enterprise = scorer.enterprises[j]
    found: tuple[str | None, str | None] = ("saturated", None) if actor.saturated else (None, None)
    lineage = scorer.lineage
    themes = set(enterprise.themes)
    for declared in actor.relations:
        for theme in declared.themes:
            if any(t == theme or theme in lineage.get(t, ()) for t in themes):
                found = (declared.relation.value, theme)
    for declared in actor.relations:
        if enterprise.id in declared.enterprises:
            found = (declared.relation.value, enterprise.id)
    return found
