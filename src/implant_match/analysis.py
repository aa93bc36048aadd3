"""Normalise stage, corpus level: every text of a dataset turned into weighted terms.

For each need, enterprise and local actor, the analysis keeps:

* the content stems of its text, after typos were folded into the corpus vocabulary once
  (a rare word one edit away from a frequent or known word is read as that word: typos
  and missing letters meet their correct form without a per-pair fuzzy comparison);
* concept terms: ``@group`` when a lexicon form appears (``FLE`` and "français langue
  étrangère" both give ``@fle``) and ``#theme`` when a theme's label or alias appears;
* a weighted bag of those terms, from which the scoring stage builds sparse TF-IDF rows.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np

from implant_match.dataset import Dataset
from implant_match.lexicon import Lexicon
from implant_match.models import Enterprise, LocalActor, Need
from implant_match.runtime import fork_map, split
from implant_match.text import stem, words, words_of_many

GRAM_SIZE = 4
DOC_CHUNK = 4096  # documents whose n-grams are counted at once
MIN_TYPO_LENGTH = 7  # shorter words are too often real words one letter apart
TRUSTED_COUNT = 1_000_000  # lexicon and alias words are known to be spelled right
PARALLEL_DOCUMENTS = 4_000  # below this many, forking costs more than it saves

NEED_FIELDS = {"title": 2.0, "description": 1.0, "keywords": 2.0}
ENTERPRISE_FIELDS = {"name": 1.0, "description": 1.0, "keywords": 1.5}


@dataclass(frozen=True)
class Concept:
    """A lexicon group or a theme, recognised in a text through one of its forms."""

    term: str  # "@fle" or "#mobilites"
    label: str  # what explanations show: the canonical form or the theme label
    kind: str  # "lexicon" or "theme"


@dataclass
class Analysed:
    """One text, analysed: stems in order, concepts found, and its weighted terms."""

    stems: list[str]
    concepts: dict[str, str]  # concept term -> the form that was found in the text
    terms: dict[str, float] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)  # folded, typo-corrected, unstemmed

    @cached_property
    def counts(self) -> Counter[str]:
        """How often each stem and concept occurs (a concept counts once per text)."""
        return Counter([*self.stems, *self.concepts])

    @property
    def grams(self) -> dict[str, float]:
        """Character n-grams of the words, counted (the corpus holds them as a matrix)."""
        return dict(Counter(char_grams(self.words)))


@dataclass
class Matcher:
    """Finds lexicon forms and theme aliases in a text, longest match first.

    Words of a form are compared as stems ("réfugiées" meets "réfugié"), except acronyms,
    compared as whole words (``=cias``) since stemming would turn CIAS into "ci".
    """

    phrases: dict[str, list[tuple[tuple[str, ...], str, str]]]  # first key -> candidates
    concepts: dict[str, Concept]
    strict_acronyms: list[tuple[re.Pattern[str], str, str, str]]  # capitals-only acronyms
    # the same phrases indexed for lookups: one-word forms by their key, longer ones by
    # their first two keys, so that each position of a text costs a dictionary lookup or two
    single: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    pairs: dict[tuple[str, str], list[tuple[tuple[str, ...], str, str]]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        for candidates in self.phrases.values():
            for phrase, term, form in candidates:
                if len(phrase) == 1:
                    self.single.setdefault(phrase[0], []).append((term, form))
                else:
                    self.pairs.setdefault((phrase[0], phrase[1]), []).append((phrase, term, form))
        self.pair_starts = {first for first, _ in self.pairs}
        self.strict_words = {word for _, word, _, _ in self.strict_acronyms}
        # words that some acronym form holds (compared unstemmed, as ``=word``)
        self.acronym_words = {
            key[1:] for phrase in self._all_keys() for key in phrase if key.startswith("=")
        }

    def _all_keys(self) -> Iterator[tuple[str, ...]]:
        for candidates in self.phrases.values():
            for phrase, _, _ in candidates:
                yield phrase

    def _keys_at(self, stems: Sequence[str], folded: Sequence[str], i: int) -> tuple[str, ...]:
        """A position's keys: its stem, and ``=word`` when an acronym may hold the word."""
        if i < len(folded) and folded[i] in self.acronym_words:
            return (stems[i], f"={folded[i]}")
        return (stems[i],)

    def find(self, stems: Sequence[str], folded: Sequence[str], raw: str) -> dict[str, str]:
        matches: list[tuple[int, int, str, str]] = []  # (-length, start, term, form)
        size = len(stems)
        single, pairs, pair_starts = self.single, self.pairs, self.pair_starts
        if self.acronym_words.isdisjoint(folded):  # the common case: stems are the keys
            for i in [i for i, key in enumerate(stems) if key in single]:
                matches.extend([(-1, i, term, form) for term, form in single[stems[i]]])
            for i in [i for i, key in enumerate(stems[:-1]) if key in pair_starts]:
                for phrase, term, form in pairs.get((stems[i], stems[i + 1]), ()):
                    if len(phrase) == 2 or _matches_at(phrase, stems, folded, i):
                        matches.append((-len(phrase), i, term, form))
            return self._resolve(matches, folded, raw)
        for i in range(size):
            for key in self._keys_at(stems, folded, i):
                for term, form in single.get(key, ()):
                    matches.append((-1, i, term, form))
            if i + 1 >= size:
                continue
            for key in self._keys_at(stems, folded, i):
                if key not in pair_starts:
                    continue
                for after in self._keys_at(stems, folded, i + 1):
                    for phrase, term, form in pairs.get((key, after), ()):
                        if len(phrase) == 2 or _matches_at(phrase, stems, folded, i):
                            matches.append((-len(phrase), i, term, form))
        return self._resolve(matches, folded, raw)

    def _resolve(
        self, matches: list[tuple[int, int, str, str]], folded: Sequence[str], raw: str
    ) -> dict[str, str]:
        if not matches and self.strict_words.isdisjoint(folded):  # most texts of a corpus
            return {}
        matches.sort(key=_LONGEST_FIRST)
        # longest match first, without overlap among lexicon forms (and among theme
        # aliases: the two systems are independent, an alias inside a lexicon form counts)
        covered: dict[str, set[int]] = {"@": set(), "#": set()}
        found: dict[str, str] = {}
        for minus_length, start, term, form in matches:
            taken = covered[term[0]]
            if minus_length == -1:  # most forms are one word
                if start in taken:
                    continue
                taken.add(start)
            else:
                span = range(start, start - minus_length)
                if not taken.isdisjoint(span):
                    continue
                taken.update(span)
            found.setdefault(term, form)
        if self.strict_words.isdisjoint(folded):
            return found
        present = set(folded)
        for pattern, word, term, form in self.strict_acronyms:
            if word not in present:
                continue
            free = [i for i, w in enumerate(folded) if w == word and i not in covered["@"]]
            if free and pattern.search(raw):
                found.setdefault(term, form)
        return found


# matches sorted longest first, then by position and term (stable: ties keep their order)
_LONGEST_FIRST = operator.itemgetter(0, 1, 2)


def _matches_at(
    phrase: tuple[str, ...], stems: Sequence[str], folded: Sequence[str], start: int
) -> bool:
    if start + len(phrase) > len(stems):
        return False
    for offset, key in enumerate(phrase):
        j = start + offset
        if key != stems[j] and not (key[0] == "=" and j < len(folded) and key[1:] == folded[j]):
            return False
    return True


def build_matcher(
    themes: Iterable[tuple[str, str, Sequence[str]]],
    lexicon: Lexicon,
    correct: dict[str, str] | None = None,
) -> Matcher:
    """Index every lexicon form and theme alias by its first key."""
    phrases: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
    concepts: dict[str, Concept] = {}
    strict: list[tuple[re.Pattern[str], str, str, str]] = []
    fix = correct or {}

    def add(form: str, term: str, acronym: bool = False) -> None:
        if acronym:
            key = tuple(f"={w}" for w in words(form))
        else:
            key = tuple(stem(fix.get(w, w)) for w in words(form))
        if key:
            phrases.setdefault(key[0], []).append((key, term, form))

    for group in lexicon.groups:
        term = f"@{group.id}"
        concepts[term] = Concept(term, group.canonical, "lexicon")
        strict_forms = set(group.case_sensitive)
        for form in (group.canonical, *group.terms):
            add(form, term)
        for acronym in group.acronyms:
            if acronym not in strict_forms:
                add(acronym, term, acronym=True)
        for acronym in group.case_sensitive:
            folded = " ".join(words(acronym))
            strict.append((re.compile(rf"\b{re.escape(acronym)}\b"), folded, term, acronym))
    for theme_id, label, aliases in themes:
        term = f"#{theme_id}"
        concepts[term] = Concept(term, label, "theme")
        for form in (label, *aliases):
            add(form, term)
    for candidates in phrases.values():  # longest phrase first, then alphabetical
        candidates.sort(key=lambda c: (-len(c[0]), c[0], c[1]))
    return Matcher(phrases, concepts, strict)


def deletions(word: str) -> set[str]:
    """The word and every string one deleted letter away (a SymSpell-style key set)."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def typo_map(counts: Counter[str]) -> dict[str, str]:
    """Map a word to the word it is most likely a typo of, when that is clear enough.

    Candidates are found through shared deletion keys (no all-pairs comparison), then
    confirmed with rapidfuzz's Damerau-Levenshtein distance (a swap of two letters is one
    typo). Real French words one letter apart abound (manque/banque, saison/maison), so a
    correction needs: a word of 7+ letters, the same first letter, and either a known
    target (a lexicon or theme-alias word) or, for an ordinary target twice as frequent,
    a dropped, added or swapped letter rather than a substituted one.
    """
    from rapidfuzz.distance import DamerauLevenshtein

    index: dict[str, list[str]] = {}
    for word, count in counts.items():
        # a target is twice as frequent as the typo or known: never a word seen once (most
        # of the distinct words of a big corpus: names, and the typos themselves)
        if count >= 2 and len(word) >= MIN_TYPO_LENGTH - 1 and not word.isdigit():
            for key in deletions(word):
                index.setdefault(key, []).append(word)
    mapping: dict[str, str] = {}
    for word, count in counts.items():
        if len(word) < MIN_TYPO_LENGTH or word.isdigit() or count >= TRUSTED_COUNT:
            continue
        best: tuple[int, str] | None = None
        for key in deletions(word):
            for other in index.get(key, ()):
                other_count = counts[other]
                if other == word or other[0] != word[0] or stem(other) == stem(word):
                    continue
                if other_count < TRUSTED_COUNT and not (
                    other_count >= 2 * count and _typo_like(word, other)
                ):
                    continue
                if DamerauLevenshtein.distance(word, other, score_cutoff=1) > 1:
                    continue
                if best is None or (-other_count, other) < (-best[0], best[1]):
                    best = (other_count, other)
        if best is not None:
            mapping[word] = best[1]
    return mapping


def _typo_like(word: str, other: str) -> bool:
    """A dropped, added or swapped letter (not a substituted one, which makes real words)."""
    return len(word) != len(other) or sorted(word) == sorted(other)


@dataclass
class Analysis:
    """The analysed corpus of a dataset: what scoring and explanations read."""

    needs: dict[str, Analysed]
    enterprises: dict[str, Analysed]
    actors: dict[tuple[str, str], Analysed]  # (territory id, actor id)
    need_keywords: dict[str, list[tuple[str, tuple[str, ...]]]]  # need -> (keyword, terms)
    idf: dict[str, float]
    matcher: Matcher
    correct: dict[str, str]
    grams: GramTable  # rows: needs, then enterprises, in the order above

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.max_idf)

    @cached_property
    def max_idf(self) -> float:
        return max(self.idf.values(), default=1.0)

    def release_vectors_sources(self) -> None:
        """Drop the documents' word and stem lists once the scorer has built its matrices.

        Explanations read a document's terms and concepts, never its lists: on a large
        corpus they would only weigh on memory and on the cache of analysed data.
        """
        for doc in (*self.needs.values(), *self.enterprises.values(), *self.actors.values()):
            doc.words = []
            doc.stems = []

    def surface_forms(self, key: str, texts: Sequence[str]) -> dict[str, str]:
        """Stem -> the first word written for it in ``texts`` (lowercase, elision cut)."""
        cache = self.__dict__.setdefault("_surface_cache", {})
        if key not in cache:
            forms: dict[str, str] = {}
            # each written span once, in order: a repeat would only find its stems taken
            spans = list(dict.fromkeys(span for text in texts for span in _WORD_SPAN.findall(text)))
            for written, found in zip(spans, words_of_many(spans), strict=True):
                for word in found:
                    term = stem(self.correct.get(word, word))
                    if term not in forms:
                        forms[term] = _APOSTROPHE.split(written.lower())[-1]
            cache[key] = forms
        result: dict[str, str] = cache[key]
        return result

    def analyse(self, text: str) -> Analysed:
        fixed = [self.correct.get(w, w) for w in words(text)]
        stems = [stem(w) for w in fixed]
        return Analysed(stems, self.matcher.find(stems, fixed, text), words=fixed)


def _weighted(fields: Iterable[tuple[Analysed, float]]) -> Analysed:
    parts = list(fields)
    stems: list[str] = []
    concepts: dict[str, str] = {}
    all_words: list[str] = []
    for analysed, _ in parts:
        stems.extend(analysed.stems)
        all_words.extend(analysed.words)
        for term, form in analysed.concepts.items():
            concepts.setdefault(term, form)
    return Analysed(stems, concepts, _weighted_terms(parts), all_words)


def _weighted_terms(parts: list[tuple[Analysed, float]]) -> dict[str, float]:
    """Per term, the sum of its count x the weight of each part, in first-seen order."""
    if all((2 * weight).is_integer() for _, weight in parts):  # the fields' weights
        # each part's stems and concepts repeated 2 x its weight, counted in C; halving is
        # exact, so the figures and their order are those of the loop below
        bag: list[str] = []
        for analysed, weight in parts:
            bag.extend([*analysed.stems, *analysed.concepts] * int(2 * weight))
        return {term: count / 2 for term, count in Counter(bag).items()}
    terms: dict[str, float] = {}
    for analysed, weight in parts:
        for term, count in analysed.counts.items():
            terms[term] = terms.get(term, 0.0) + count * weight
    return terms


@dataclass
class GramTable:
    """Character n-gram counts of many documents, as compressed rows.

    Character n-grams count each written word once, whatever its field: a cheap, broad
    signal next to the field-weighted words. Each distinct word is cut into n-grams once;
    documents' counts are gathered with array operations, ``DOC_CHUNK`` documents at a
    time so that memory stays bounded. Row ``i`` holds ``indices[indptr[i]:indptr[i+1]]``
    (increasing) with their ``counts``.
    """

    vocabulary: list[str]
    indptr: np.ndarray
    indices: np.ndarray  # int32
    counts: np.ndarray  # int32

    @classmethod
    def build(cls, docs: Sequence[Sequence[str]], size: int = GRAM_SIZE) -> GramTable:
        """The table of documents given as their words (folded, typo-corrected)."""
        word_ids: dict[str, int] = {}
        gram_ids: dict[str, int] = {}
        lengths = np.zeros(0, dtype=np.int64)  # n-grams per distinct word
        flat = np.zeros(0, dtype=np.int64)  # every distinct word's n-grams, end to end
        indices, counts, per_row = [], [], []
        for start in range(0, len(docs), DOC_CHUNK):
            block = docs[start : start + DOC_CHUNK]
            seen = len(word_ids)
            # ids in order of first appearance: new words found in C, then numbered
            for word in dict.fromkeys(itertools.chain.from_iterable(block)):
                word_ids.setdefault(word, len(word_ids))
            occurrences = np.fromiter(
                map(word_ids.__getitem__, itertools.chain.from_iterable(block)), dtype=np.int64
            )
            # the new words' n-grams, end to end; new n-grams numbered in order of first
            # appearance (their distinct values found in C, then a lookup each in C)
            fresh = [_word_grams(w, size) for w in itertools.islice(word_ids, seen, None)]
            cut = list(itertools.chain.from_iterable(fresh))
            for gram in dict.fromkeys(cut):
                if gram not in gram_ids:
                    gram_ids[gram] = len(gram_ids)
            lengths = np.concatenate([lengths, [len(g) for g in fresh]]).astype(np.int64)
            flat = np.concatenate(
                [flat, np.fromiter(map(gram_ids.__getitem__, cut), dtype=np.int64, count=len(cut))]
            )
            starts = np.cumsum(lengths) - lengths
            # every occurrence of a word contributes each of that word's n-grams
            spread = lengths[occurrences]
            offsets = np.arange(int(spread.sum()), dtype=np.int64) - np.repeat(
                np.cumsum(spread) - spread, spread
            )
            grams = flat[np.repeat(starts[occurrences], spread) + offsets]
            doc_of = np.repeat(np.arange(len(block), dtype=np.int64), [len(doc) for doc in block])
            width = max(len(gram_ids), 1)
            keys, found = np.unique(np.repeat(doc_of, spread) * width + grams, return_counts=True)
            indices.append((keys % width).astype(np.int32))
            counts.append(found.astype(np.int32))
            per_row.append(np.bincount(keys // width, minlength=len(block)))
        indptr = np.zeros(len(docs) + 1, dtype=np.int64)
        if per_row:
            np.cumsum(np.concatenate(per_row), out=indptr[1:])
        return cls(
            list(gram_ids),
            indptr,
            np.concatenate(indices) if indices else np.zeros(0, dtype=np.int32),
            np.concatenate(counts) if counts else np.zeros(0, dtype=np.int32),
        )

    def document_frequency(self) -> np.ndarray:
        return np.bincount(self.indices, minlength=len(self.vocabulary))


def char_grams(folded_words: Iterable[str], size: int = GRAM_SIZE) -> list[str]:
    """Character n-grams of each word, with word boundaries marked (``_lyon_`` -> ``_lyo``...).

    They let "isoler" meet "isolation" and a typo meet the right word without any rule.
    """
    out: list[str] = []
    for word in folded_words:
        out.extend(_word_grams(word, size))
    return out


@lru_cache(maxsize=500_000)
def _word_grams(word: str, size: int) -> tuple[str, ...]:
    padded = f"_{word}_"
    if len(padded) <= size:
        return ("~" + padded,)
    return tuple(["~" + padded[i : i + size] for i in range(len(padded) - size + 1)])


def need_texts(need: Need) -> list[tuple[str, float]]:
    return [
        (need.title, NEED_FIELDS["title"]),
        (need.description, NEED_FIELDS["description"]),
        *((k, NEED_FIELDS["keywords"]) for k in need.keywords),
    ]


def enterprise_texts(enterprise: Enterprise) -> list[tuple[str, float]]:
    return [
        (enterprise.name, ENTERPRISE_FIELDS["name"]),
        (enterprise.description, ENTERPRISE_FIELDS["description"]),
        *((k, ENTERPRISE_FIELDS["keywords"]) for k in enterprise.keywords),
    ]


def actor_texts(actor: LocalActor) -> list[tuple[str, float]]:
    return [(actor.name, 1.0), (actor.description or "", 1.0)]


def analyse_dataset(dataset: Dataset, lexicon: Lexicon, jobs: int = 1) -> Analysis:
    """Analyse every text of the dataset against one shared, typo-folded vocabulary.

    The vocabulary (typo corrections, lexicon matcher) is built here; with ``jobs`` above
    1 and ``PARALLEL_DOCUMENTS`` documents or more, the documents are then analysed in
    that many processes (forked, sharing the vocabulary), with the same result.
    """
    needs = {n.id: need_texts(n) for n in dataset.needs}
    enterprises = {e.id: enterprise_texts(e) for e in dataset.enterprises}
    actors = {
        (t.id, a.id): actor_texts(a) for t in dataset.territories.values() for a in t.local_actors
    }
    # only the themes the data uses lend their words (the shipped taxonomy's others would
    # only add noise to every text)
    in_use = dataset.themes_in_use
    theme_forms = [(t.id, t.label, t.aliases) for t in dataset.themes.values() if t.id in in_use]

    distinct = list(
        dict.fromkeys(
            text
            for texts in (*needs.values(), *enterprises.values(), *actors.values())
            for text, _ in texts
        )
    )
    written = words_of_many(distinct)
    # in how many texts each word occurs, counted in C
    counts = Counter(itertools.chain.from_iterable(map(set, written)))
    # one string object per distinct word (the counter's key), however often it occurs
    known = {w: w for w in counts}
    raw_words = {
        text: list(map(known.__getitem__, text_words))
        for text, text_words in zip(distinct, written, strict=True)
    }
    del known, distinct, written
    for group in lexicon.groups:
        for form in group.forms():
            for w in words(form):
                counts[w] = TRUSTED_COUNT
    for _, label, aliases in theme_forms:
        for form in (label, *aliases):
            for w in words(form):
                counts[w] = TRUSTED_COUNT
    correct = typo_map(counts)
    matcher = build_matcher(theme_forms, lexicon, correct)

    cache: dict[str, Analysed] = {}
    fixed_of = {w: correct.get(w, w) for w in counts}  # each distinct word corrected once
    stem_of = {w: stem(fixed) for w, fixed in fixed_of.items()}

    def analyse(text: str) -> Analysed:
        if text not in cache:
            raw = raw_words.get(text)
            if raw is None:  # not in the corpus (none so far): analysed on its own
                raw = words(text)
                fixed_of.update((w, correct.get(w, w)) for w in raw if w not in fixed_of)
                stem_of.update((w, stem(fixed_of[w])) for w in raw if w not in stem_of)
            fixed = list(map(fixed_of.__getitem__, raw))
            stems = list(map(stem_of.__getitem__, raw))
            cache[text] = Analysed(stems, matcher.find(stems, fixed, text), words=fixed)
        return cache[text]

    def document(texts: list[tuple[str, float]]) -> Analysed:
        return _weighted((analyse(text), weight) for text, weight in texts)

    def documents(run: Sequence[list[tuple[str, float]]]) -> list[Analysed]:
        return [document(texts) for texts in run]

    sources = [*needs.values(), *enterprises.values(), *actors.values()]
    if jobs > 1 and len(sources) >= PARALLEL_DOCUMENTS:
        runs = fork_map(documents, split(sources, jobs), jobs)
        analysed = [doc for run in runs for doc in run]
    else:
        analysed = documents(sources)
    del sources
    at_needs = len(needs)
    at_actors = at_needs + len(enterprises)
    analysed_needs = dict(zip(needs, analysed[:at_needs], strict=True))
    analysed_enterprises = dict(zip(enterprises, analysed[at_needs:at_actors], strict=True))
    analysed_actors = dict(zip(actors, analysed[at_actors:], strict=True))
    keywords = {}
    for need in dataset.needs:
        items = []
        for keyword in need.keywords:
            found = analyse(keyword)
            terms = tuple(dict.fromkeys([*found.concepts, *found.stems]))
            if terms:
                items.append((keyword, terms))
        keywords[need.id] = items

    # in how many documents each term occurs, in order of first appearance, counted in C
    df = Counter(
        itertools.chain.from_iterable(
            doc.terms for doc in (*analysed_needs.values(), *analysed_enterprises.values())
        )
    )
    grams = GramTable.build(
        [doc.words for doc in (*analysed_needs.values(), *analysed_enterprises.values())]
    )
    df.update(dict(zip(grams.vocabulary, grams.document_frequency().tolist(), strict=True)))
    total = len(analysed_needs) + len(analysed_enterprises)
    idf = {term: math.log((1 + total) / (1 + count)) + 1.0 for term, count in df.items()}
    return Analysis(
        analysed_needs,
        analysed_enterprises,
        analysed_actors,
        keywords,
        idf,
        matcher,
        correct,
        grams,
    )


_WORD_SPAN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_APOSTROPHE = re.compile(r"['’]")


def highlight_spans(text: str, terms: frozenset[str], analysis: Analysis) -> list[tuple[int, int]]:
    """Character spans of the words of ``text`` whose stem is among ``terms``."""
    spans = []
    for match in _WORD_SPAN.finditer(text):
        for word in words(match.group()):
            if stem(analysis.correct.get(word, word)) in terms:
                spans.append(match.span())
                break
    return spans
