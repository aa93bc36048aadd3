"""Word-level normalisation: one text at a time and a whole corpus at once agree."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from implant_match.text import words, words_of_many

from .profiles import examples

# letters French texts hold, with the characters the folding steps treat specially:
# apostrophes of every kind, ligatures, combining marks, letters outside Latin-1
ALPHABET = st.sampled_from(
    [
        *"abcdeéèêëàâäîïôöùûüçœæßÿñ lLdDjJqQuU'’‘`´ʼ-_.,;:!?0123456789\n\t",
        *["e\u0301", "\u0327", "ﬁ", "Å", "İ", "ǅ", "Ⅸ", "𝔞"],
    ]
)
TEXTS = st.lists(st.lists(ALPHABET, max_size=40).map("".join), max_size=12)


@settings(max_examples=examples(300))
@given(TEXTS)
def test_words_of_many_equals_words_of_each(texts: list[str]) -> None:
    assert words_of_many(texts) == [words(text) for text in texts]


@given(TEXTS, st.integers(min_value=0, max_value=11))
def test_a_text_holding_the_separator_changes_nothing(texts: list[str], where: int) -> None:
    texts = [*texts[:where], "avant\x00apres l'été", *texts[where:]]
    assert words_of_many(texts) == [words(text) for text in texts]


def test_words_of_many_on_french_text() -> None:
    texts = [
        "L’accès à l'Œuvre d’insertion",
        "jusqu'au BOUT, qu'il vienne",
        "",
        "Éco-rénovation des logements anciens",
        "refugies francais",
    ]
    assert words_of_many(texts) == [
        ["acces", "oeuvre", "insertion"],
        ["bout", "vienne"],
        [],
        ["eco", "renovation", "logements", "anciens"],
        ["refugies", "francais"],
    ]


# elisions in every position: alone, repeated, after underscores or non-Latin letters
ELISIONS = st.sampled_from(
    [*"lLdDjJqQuUsStTcCmMnN'’ _ae-0ω", "jusqu'", "qu'", "lorsqu'", "presqu'", "l'", "d'"]
)


@settings(max_examples=examples(500))
@given(st.lists(st.lists(ELISIONS, max_size=30).map("".join), max_size=8))
def test_elisions_are_cut_as_in_words(texts: list[str]) -> None:
    assert words_of_many(texts) == [words(text) for text in texts]
