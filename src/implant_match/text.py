"""Normalise stage, word level: French-aware folding, tokens, stop words and stems.

``"L’accès à l'Œuvre d’insertion"`` -> ``["acces", "oeuvre", "insertion"]`` -> stems.
Accents are folded so that text typed without accents meets text typed with them;
elisions (l', d', qu', jusqu'...) are cut; stems come from the Snowball French stemmer, so
that "réfugié/réfugiées" and "rénover/rénovation" meet.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

_FOLDS = {
    **{c: "'" for c in "’‘`´ʼ′"},
    "œ": "oe",
    "æ": "ae",
    "ß": "ss",
    "ø": "o",
    "đ": "d",
    "ł": "l",
    **{c: "a" for c in "àâäáãå"},
    **{c: "e" for c in "éèêë"},
    **{c: "i" for c in "îïíì"},
    **{c: "o" for c in "ôöóòõ"},
    **{c: "u" for c in "ùûüú"},
    "ç": "c",
    "ÿ": "y",
    "ñ": "n",
}
_ELIDED = r"\b(?:qu|jusqu|lorsqu|puisqu|quoiqu|presqu|[cdjlmnst])'"
_ELISION = re.compile(_ELIDED)
_NON_WORD = re.compile(r"[^0-9a-z]+")
_SEPARATOR = "\x00"  # between texts folded together: no word character, composes with nothing

# Function words that carry no evidence, accent-folded. Kept short on purpose: words such
# as "sans" (sans-abri), "non" (non-alimentaire) or "fin" (fin de vie) carry meaning here.
STOP_WORDS = frozenset(
    """
    a afin ai aie ainsi alors apres au aucun aucune aupres aussi autre autres aux avec avoir
    bien c ca car ce ceci cela celle celles celui ces cet cette ceux chaque chez ci comme
    comment d dans de des deja donc dont du e elle elles en encore entre est et etaient
    etait ete etre eu eux fait faire font grace il ils j je l la le les leur leurs lors lui
    m ma mais me meme memes mes moi moins mon n ne ni nos notre nous on ont or ou par parce
    parmi pas peu peut plus pour pourquoi qu quand que quel quelle quelles quels qui quoi s
    sa se selon ses si sien soi soit son sont sous sur t ta te tes toi ton tous tout toute
    toutes tres tu un une unes uns vers via voici voila vos votre vous y ont sera seront etc
    cas dont ainsi tel telle tels telles deux trois plusieurs toujours souvent ici la-bas
    jusqu lorsqu puisqu quoiqu presqu
    """.split()
)

# what ``words`` leaves out: stop words and single letters (single digits are kept). So an
# elided word ("l'", "qu'", "jusqu'") is left out whether its apostrophe is read as the end
# of an elision or as a space between words, which ``words_of_many`` does.
_DROPPED = STOP_WORDS | {""} | set("abcdefghijklmnopqrstuvwxyz")
# folded ASCII text to words: every character but [0-9a-z] and the separator becomes a space
_SPACES = str.maketrans(
    {chr(i): " " for i in range(128) if not chr(i).isalnum() and chr(i) != _SEPARATOR}
    | {c: " " for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
)
_NON_WORD_NOR_SEPARATOR = re.compile(r"[^0-9a-z\x00]+")


def fold(text: str) -> str:
    """NFC, casefold, ligatures, accents and apostrophes folded; punctuation kept."""
    return _strip_marks(_fold_table(unicodedata.normalize("NFC", text).casefold()))


def _fold_table(text: str) -> str:
    """The characters of ``_FOLDS`` replaced: one str.replace (a fast scan in C) per
    character present; no replacement holds a foldable character. (str.translate with a
    table holding multi-letter replacements looks up every character of the text.)"""
    for char, replacement in _FOLDS.items():
        if char in text:
            text = text.replace(char, replacement)
    return text


def _strip_marks(text: str) -> str:
    if text.isascii():  # the common case, after the table above: French letters done
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=100_000)
def normalise(text: str) -> str:
    """Folded text with elisions cut and punctuation turned into single spaces."""
    return " ".join(_NON_WORD.split(_ELISION.sub(" ", fold(text)))).strip()


def words(text: str) -> list[str]:
    """Normalised words, stop words removed (order kept, for phrase matching)."""
    return [w for w in normalise(text).split() if w not in _DROPPED]


def words_of_many(texts: Sequence[str]) -> list[list[str]]:
    """``[words(text) for text in texts]``, folded and cut in a few passes over all of them.

    The texts are joined by a character that no step reads as part of a word or composes
    with, so that normalisation, case folding and the accent table run once over the
    corpus instead of once per text (most of the cost for short texts); a translation
    table then turns every character but [0-9a-z] into a space, apostrophes included
    (what they elided is a stop word or a single letter, left out anyway).
    """
    if not texts:
        return []
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != len(texts) - 1:  # a text holds the separator
        return [words(text) for text in texts]
    folded = _fold_table(unicodedata.normalize("NFC", joined).casefold())
    if not folded.isascii():
        folded = _SEPARATOR.join([_strip_marks(part) for part in folded.split(_SEPARATOR)])
    # words are the runs of [0-9a-z]: everything else becomes a space (a table lookup per
    # character when the folded corpus is ASCII, as French text is), then str.split
    if folded.isascii():
        spaced = folded.translate(_SPACES)
    else:
        spaced = _NON_WORD_NOR_SEPARATOR.sub(" ", folded)
    dropped = _DROPPED
    return [[w for w in part.split() if w not in dropped] for part in spaced.split(_SEPARATOR)]


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball French stem of one folded word (cached: vocabularies repeat).

    Snowball reads -ée/-ées by their accents, which folding removed; so feminine and plural
    endings are first brought back to the masculine singular ("refugiees" -> "refugie"),
    the same way on text typed with or without accents.
    """
    if len(word) <= 3 or word.isdigit():
        return word
    return str(_stemmer().stemWord(_singular(word)))


def _singular(word: str) -> str:
    if len(word) >= 6 and word.endswith("ees"):
        return word[:-2]
    if len(word) >= 5 and word.endswith(("ee", "es")):
        return word[:-1]
    return word


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import snowballstemmer

    return snowballstemmer.stemmer("french")
