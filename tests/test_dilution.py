"""Decoys lose: an enterprise that claims themes in every family of the taxonomy gets
little from the themes part, and the explanation says why; one whose themes stay within a
few families (a specialist, or an honest multi-activity one) keeps them in full."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from rich.console import Console

import implant_match as im
from implant_match import scoring
from implant_match.i18n import language
from implant_match.ranking import Engine
from implant_match.render import render_explanation
from implant_match.results import english_reasons

FAMILIES = ["alimentation", "emploi", "logement", "sante", "mobilite", "culture"]
NO_MEANING = {"meaning": 0}


def theme(id_: str, parent: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": id_, "label": id_.capitalize()}
    if parent:
        out["parent"] = parent
    return out


NEEDS = {
    "schema_version": 1,
    "themes": [
        *[theme(f) for f in FAMILIES],
        theme("aide-alimentaire", "alimentation"),
        theme("circuits-courts", "alimentation"),
        theme("cuisine", "alimentation"),
    ],
    "territories": [{"id": "lyon", "name": "Métropole de Lyon"}],
    "needs": [
        {
            "id": "colis",
            "territory": "lyon",
            "title": "Aide alimentaire de proximité",
            "description": "Des familles sans voiture ne peuvent pas aller chercher les colis.",
            "themes": ["aide-alimentaire"],
        }
    ],
}
TEXT = "Nous livrons des colis alimentaires aux familles qui ne peuvent pas se déplacer."


def enterprise(id_: str, themes: list[str], name: str | None = None) -> dict[str, Any]:
    return {
        "id": id_,
        "name": name or id_.capitalize(),
        "origin": "Paris",
        "description": TEXT,
        "themes": themes,
    }


ENTERPRISES = {
    "schema_version": 1,
    "enterprises": [
        enterprise("specialiste", ["aide-alimentaire"]),
        # four themes, one family: a food specialist doing several food activities
        enterprise(
            "cuisine-solidaire", ["aide-alimentaire", "circuits-courts", "cuisine", "alimentation"]
        ),
        # three families: still counted in full
        enterprise("trois-familles", ["aide-alimentaire", "emploi", "logement"]),
        # every family: the same text, the need's theme among six families
        enterprise("plateforme-360", ["aide-alimentaire", *FAMILIES[1:]]),
        # the need's broader theme only (0.6): beaten by four families on theme overlap
        # alone (recall 1, precision 1/4: 0.66), not once the fourth family counts
        enterprise("alimentation-seule", ["alimentation"], "Association"),
        enterprise(
            "quatre-familles", ["aide-alimentaire", "emploi", "logement", "sante"], "Association"
        ),
    ],
}


@pytest.fixture(scope="module")
def data() -> im.Dataset:
    return im.Dataset.from_records(NEEDS, ENTERPRISES)


def themes_raw(explanation: im.Explanation) -> float:
    match = explanation.match
    assert match is not None
    return match.component("themes").raw


def test_themes_within_three_families_count_in_full(data: im.Dataset) -> None:
    for name in ("specialiste", "cuisine-solidaire", "trois-familles"):
        explanation = im.explain(data, name, "colis", weights=NO_MEANING)
        assert explanation.match is not None and explanation.match.dilution is None
        assert explanation.to_dict()["dilution"] is None


def test_a_claim_of_every_family_divides_the_themes_part(data: im.Dataset) -> None:
    decoy = im.explain(data, "plateforme-360", "colis", weights=NO_MEANING)
    family = im.explain(data, "trois-familles", "colis", weights=NO_MEANING)
    dilution = decoy.match.dilution if decoy.match else None
    assert dilution is not None
    assert dilution.theme_families == 6
    assert dilution.themes_factor == pytest.approx(scoring.FREE_FAMILIES / 6)
    # same recall, precision 1/6 against 1/3; then the spread factor 3/6
    exponent = 1 - scoring.RECALL_EXPONENT
    expected = themes_raw(family) * (2**-exponent) * scoring.FREE_FAMILIES / 6
    assert themes_raw(decoy) == pytest.approx(expected)
    assert decoy.to_dict()["dilution"]["theme_families"] == 6


def test_the_specialist_outranks_the_decoy_with_the_same_text(data: im.Dataset) -> None:
    ranked = [f.enterprise_id for f in im.rank(data, top=6, weights=NO_MEANING, stability=False)]
    assert ranked[-1] == "plateforme-360"
    assert ranked.index("specialiste") < ranked.index("plateforme-360")
    # what the spread rule changes: without it, four families would win on overlap alone
    assert ranked.index("alimentation-seule") < ranked.index("quatre-familles")
    broad = im.explain(data, "quatre-familles", "colis", weights=NO_MEANING)
    narrow = im.explain(data, "alimentation-seule", "colis", weights=NO_MEANING)
    overlap = themes_raw(broad) / scoring.spread(np.array([4.0]))[0]
    assert overlap > themes_raw(narrow) > themes_raw(broad)


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        (
            "fr",
            "Déclare des thèmes dans 6 familles de la taxonomie\u00a0: ses thèmes ne "
            "comptent que pour 50\u00a0%.",
        ),
        ("en", "Claims themes in 6 families of the taxonomy: its themes count for 50%."),
    ],
)
def test_explain_says_why_the_themes_count_less(data: im.Dataset, code: str, sentence: str) -> None:
    engine = Engine(data)
    match = engine.explain("plateforme-360", "colis", im.Weights(meaning=0))
    buffer = io.StringIO()
    render_explanation(match, engine, Console(file=buffer, width=300), language(code))
    assert sentence in buffer.getvalue()
    if code == "en":  # the machine outputs' reasons say the same
        assert sentence in english_reasons(match)
