"""Evidence that is true: no key term or word is claimed that the enterprise's text does not
hold (a term partly present, present only as a theme alias, present through the lexicon)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from implant_match.evidence import same_written_word, shown_stems, significant
from implant_match.explanation import Match
from implant_match.export import json_records
from implant_match.ranking import Engine, RankOptions
from implant_match.render import render_explanation
from implant_match.results import english_reasons
from implant_match.text import stem
from implant_match.weights import Weights

from .factories import enterprises_document, make_dataset, needs_document

NEED = {
    "id": "mobilite-emploi",
    "territory": "lyon",
    "title": "Se déplacer pour travailler",
    "description": "Réduire les freins des demandeurs d'emploi autour de la mobilité.",
    "themes": ["mobilites"],
    "keywords": ["permis de conduire", "vélo", "FLE", "garage solidaire"],
    "priority": "high",
}


def enterprise(id_: str, description: str) -> dict[str, object]:
    return {
        "id": id_,
        "name": id_.capitalize(),
        "origin": "Paris",
        "description": description,
        "themes": ["mobilites"],
    }


ENTERPRISES = [
    # "permis" only: partial; "transport" is another alias of the theme "vélo" belongs to
    enterprise("partiel", "Nous finançons le permis et un transport à la demande."),
    # "vélo" written in its text: found, and the theme alias shows as a theme word
    enterprise("velo", "Réparation de vélo pour réduire les coûts, autour des gares."),
    # FLE through the lexicon; every significant word of the garage term in its text
    enterprise("langue", "Cours de français langue étrangère dans un garage solidaire."),
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    dataset = make_dataset(
        needs=needs_document([NEED]),
        enterprises=enterprises_document(ENTERPRISES),
    )
    return Engine(dataset)


def explain(engine: Engine, enterprise_id: str) -> Match:
    match = engine.explain(enterprise_id, "mobilite-emploi", Weights())
    assert isinstance(match, Match)
    return match


def test_a_term_partly_present_is_shown_as_partial_never_as_found(engine: Engine) -> None:
    match = explain(engine, "partiel")
    assert "permis de conduire" not in match.matched_keywords
    assert match.partial_keywords == (("permis de conduire", ("permis",)),)
    assert "permis de conduire" in match.missing_keywords
    # "vélo" is an alias of the theme whose other alias ("transport") the text holds:
    # the key term is not found, the alias it does write is shown as an alias
    assert "vélo" not in match.matched_keywords
    assert match.theme_words == ("transport",)
    keywords = next(r for r in english_reasons(match) if "key term" in r or "part of" in r)
    assert "permis de conduire — partly: permis" in keywords
    assert "finds" not in keywords.lower()  # no key term is claimed as found


def test_a_theme_alias_counts_only_when_written(engine: Engine) -> None:
    match = explain(engine, "velo")
    assert "vélo" in match.matched_keywords
    assert match.partial_keywords == ()
    assert not {"permis de conduire", "FLE", "garage solidaire"} & set(match.matched_keywords)


def test_a_term_found_through_the_lexicon_shows_the_equivalence(engine: Engine) -> None:
    match = explain(engine, "langue")
    assert "FLE" in match.matched_keywords
    assert "garage solidaire" in match.matched_keywords
    assert match.keyword_equivalents == (("FLE", "français langue étrangère"),)
    assert any("FLE ≈ français langue étrangère" in r for r in english_reasons(match))
    assert "vélo" not in match.matched_keywords
    out = io.StringIO()
    render_explanation(match, engine, Console(file=out, width=200, color_system=None))
    assert "Key terms found: FLE ≈ français langue étrangère, garage solidaire" in out.getvalue()


def test_generic_words_are_never_shown(engine: Engine) -> None:
    # the need and "velo" both write "réduire" and "autour": no evidence of anything
    match = explain(engine, "velo")
    assert not {"reduire", "réduire", "autour"} & set(match.matched_words)
    assert stem("reduire") not in match.matched_terms
    assert stem("autour") not in match.matched_terms


def test_json_and_reasons_claim_the_same(engine: Engine) -> None:
    shortlist = engine.rank(RankOptions(top=3, stability=False))
    records = {r["enterprise_id"]: r for r in json_records(shortlist)}
    assert records["partiel"]["matched_keywords"] == ["transport"]
    assert records["partiel"]["partial_keywords"] == [
        {"keyword": "permis de conduire", "found": ["permis"]}
    ]
    assert "permis de conduire" not in records["velo"]["matched_keywords"]
    assert records["langue"]["matched_keywords"][:2] == ["FLE", "garage solidaire"]
    for record in records.values():
        said = " ".join(record["reasons"])
        for keyword in NEED["keywords"]:  # type: ignore[union-attr]
            if keyword in said and f"{keyword} — partly" not in said:
                assert keyword in record["matched_keywords"], (record["enterprise_id"], keyword)


def test_partial_credit_is_between_none_and_full(engine: Engine) -> None:
    parts = {e: explain(engine, e).component("keywords").raw for e in ("partiel", "langue")}
    assert 0 < parts["partiel"] < parts["langue"]


def test_rules() -> None:
    assert significant([stem("reduire"), stem("velo"), stem("velo")]) == (stem("velo"),)
    assert not same_written_word("bases", "bas")
    assert same_written_word("jeunes", "jeune")
    assert shown_stems(["bas", "epicerie"], {"bas": False}) == ["epicerie"]
    assert shown_stems(["bas"], {"bas": True}) == ["bas"]
    # generic verbs: "peuvent" was shown as a word in common for isol-ensemble (eval set A)
    assert shown_stems([stem("peuvent"), stem("artisans")], {}) == [stem("artisans")]


def test_the_bundled_youth_need_claims_nothing_its_candidates_do_not_say() -> None:
    """The case of the issue: key terms of the Isère youth need shown for enterprises
    whose texts say none of them."""
    from .factories import bundled_dataset

    engine = Engine(bundled_dataset())
    shortlist = engine.rank(RankOptions(need_ids=("emploi-jeunes-isere",), top=10, stability=False))
    dataset = engine.dataset
    for ranked in shortlist.needs[0].candidates:
        match = ranked.match
        e = dataset.enterprise_by_id[match.enterprise_id]
        text = " ".join([e.name, e.description, *e.keywords]).lower()
        for keyword in ("jeunes sans diplôme", "décrochage", "premier emploi"):
            if keyword in match.matched_keywords:
                assert keyword in text, (e.id, keyword)
