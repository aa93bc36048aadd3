"""Evidence rules: what an enterprise's own text bears out of a need's words and key terms.

Whoever reads "key terms found" takes it as fact, so a claim is made only when the text
holds it:

* a key term is **found** when every significant word of it occurs in the enterprise's text
  (as a stem, after typo folding), or when the text names a lexicon group whose form in the
  key term covers all its significant words (then the equivalence is shown: "FLE ≈
  français langue étrangère");
* a key term some of whose significant words occur is **partial**: it may earn partial
  credit, and is shown as partial with the words found, never as found;
* a theme alias held by a key term proves nothing by itself (carrying the theme is the
  themes part's business): only the key term's own words count;
* generic words (verbs, adverbs and nouns of any project: "réduire", "autour",
  "particulier", "accompagner"...) are not significant and never shown as evidence, and a
  short stem is shown only when both texts write the same word (``bases`` and ``bas``
  share the stem ``bas``).

These functions hold the rules; the scorer uses :func:`key_term` for the keywords part's
credit, and the explanation of a pair uses :func:`judge_key_term` and
:func:`shown_stems`, so the score and what is claimed follow the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from implant_match.text import stem, words

if TYPE_CHECKING:
    from implant_match.analysis import Analysis

# Folded words that any project description may hold: never evidence of a shared subject.
GENERIC_WORDS = frozenset(
    """
    reduire reduit reduisent autour particulier particuliere particulierement notamment
    permettre permet permettent proposer propose proposent favoriser developper ameliorer
    renforcer faciliter mettre place agir agit lutter contre besoin besoins manque manquent
    manquer faut aider aide aident accompagner accompagne accompagnent accompagnement
    action actions projet projets structure structures association associations
    dispositif dispositifs existant existants existantes nombreux nombreuses grand grande
    grands grandes nouveau nouvelle nouveaux nouvelles durablement regulierement rapidement
    directement ensemble mieux davantage chacun chacune personne personnes public publics
    territoire territoires offrir offre assurer garantir travailler travail solution
    solutions depuis annee annees an ans jour jours fois peuvent pouvoir pourront doivent
    permettant souhaite souhaitent
    """.split()
)
SHORT_STEM = 4  # stems this short are confirmed by the words written on both sides


@lru_cache(maxsize=1)
def generic_stems() -> frozenset[str]:
    return frozenset(stem(w) for w in GENERIC_WORDS)


def significant(stems: Iterable[str]) -> tuple[str, ...]:
    """The stems that carry meaning (no generic word), in order, without repeats."""
    generic = generic_stems()
    return tuple(dict.fromkeys(s for s in stems if s not in generic))


@dataclass(frozen=True)
class KeyTerm:
    """A need's key term, as the rules read it."""

    keyword: str
    stems: tuple[str, ...]  # its significant stems
    concepts: tuple[str, ...]  # lexicon groups whose form in it covers all those stems


def key_term(analysis: Analysis, keyword: str, terms: tuple[str, ...]) -> KeyTerm:
    """A key term from the terms the analysis found in it (``need_keywords``).

    Theme concepts (``#theme``) are dropped: a key term that is also a theme alias is found
    by its own words, never by the enterprise naming another alias of the theme.
    """
    stems = significant(t for t in terms if t[0] not in "@#")
    groups = [t for t in terms if t[0] == "@"]
    concepts: list[str] = []
    if groups:
        forms = analysis.analyse(keyword).concepts
        for group in groups:
            form = forms.get(group)
            if form is None:
                continue
            covered = {stem(analysis.correct.get(w, w)) for w in words(form)}
            if set(stems) <= covered:
                concepts.append(group)
    return KeyTerm(keyword, stems, tuple(concepts))


@dataclass(frozen=True)
class KeyTermVerdict:
    """What an enterprise's text bears out of one key term."""

    keyword: str
    found: bool
    through: str = ""  # the lexicon form the enterprise wrote, when found through it
    partial: tuple[str, ...] = ()  # the need's words found, when only some are


def judge_key_term(
    term: KeyTerm,
    enterprise_terms: Mapping[str, float],
    enterprise_concepts: Mapping[str, str],
    need_forms: Mapping[str, str],
    same_word: Mapping[str, bool],
) -> KeyTermVerdict:
    """Found, partial or absent, by the rules above; ``same_word`` says, for a short shared
    stem, whether both texts write the same word (absent: assumed not)."""
    for concept in term.concepts:
        if concept in enterprise_terms:
            form = enterprise_concepts.get(concept, "")
            return KeyTermVerdict(term.keyword, True, "" if _same(form, term.keyword) else form)
    present = [
        s for s in term.stems if s in enterprise_terms and (len(s) > SHORT_STEM or same_word.get(s))
    ]
    if term.stems and len(present) == len(term.stems):
        return KeyTermVerdict(term.keyword, True)
    if present:
        return KeyTermVerdict(
            term.keyword, False, partial=tuple(need_forms.get(s, s) for s in present)
        )
    return KeyTermVerdict(term.keyword, False)


def shown_stems(stems: Iterable[str], same_word: Mapping[str, bool]) -> list[str]:
    """The shared stems that may be shown as words in common: not generic, and a short
    stem only when both texts write the same word."""
    generic = generic_stems()
    return [
        s for s in stems if s not in generic and (len(s) > SHORT_STEM or same_word.get(s, False))
    ]


def same_written_word(a: str, b: str) -> bool:
    """Whether two written words are the same word, up to a final plural s or x."""
    return _singular(a) == _singular(b)


def _singular(word: str) -> str:
    from implant_match.text import normalise

    folded = normalise(word)
    return folded[:-1] if len(folded) > 3 and folded[-1] in "sx" else folded


def _same(a: str, b: str) -> bool:
    from implant_match.text import normalise

    return normalise(a) == normalise(b)
