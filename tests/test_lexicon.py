"""The field's language: acronyms, synonyms, plural, feminine and elided forms meet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from implant_match.cli import app
from implant_match.errors import DataError
from implant_match.lexicon import Lexicon, load_lexicon, shipped_lexicon_path
from implant_match.ranking import Engine
from implant_match.text import fold
from implant_match.weights import Weights

from .factories import enterprises_document, make_dataset, needs_document

TEXT_ONLY = Weights(themes=0, text=1, keywords=0, complementarity=0)


def text_points(
    tmp_path: Path,
    need_text: str,
    enterprise_text: str,
    lexicon: Lexicon | None = None,
    keywords: list[str] | None = None,
) -> tuple[float, Any]:
    needs = needs_document(
        needs=[
            {
                "id": "besoin",
                "territory": "lyon",
                "title": "Besoin",
                "description": need_text,
                "themes": ["mobilites"],
                "keywords": keywords or [],
            }
        ]
    )
    # a few unrelated enterprises give the corpus ordinary word frequencies
    ents = enterprises_document(
        [
            {
                "id": "candidate",
                "name": "Candidate",
                "origin": "Paris",
                "description": enterprise_text,
                "themes": ["alimentation"],
            },
            *(
                {
                    "id": f"autre-{i}",
                    "name": f"Autre {i}",
                    "origin": "Lyon",
                    "description": text,
                    "themes": ["alimentation"],
                }
                for i, text in enumerate(
                    [
                        "Atelier de réparation de vélos.",
                        "Jardin partagé.",
                        "Épicerie solidaire en centre-ville.",
                    ]
                )
            ),
        ]
    )
    engine = Engine(
        make_dataset(needs=needs, enterprises=ents),
        lexicon if lexicon is not None else load_lexicon(),
    )
    match = engine.match("besoin", "candidate", TEXT_ONLY)
    return match.score, match


@pytest.mark.parametrize(
    ("need", "enterprise", "link"),
    [
        ("Cours de FLE pour adultes.", "Cours de français langue étrangère pour adultes.", "FLE"),
        ("Cours de français langue étrangère.", "Des cours de FLE.", "FLE"),
        (
            "Débouchés pour les travailleurs d'ESAT.",
            "Emplois pour les travailleurs d'établissement et service d'aide par le travail.",
            "ESAT",
        ),
        (
            "Isolement des résidents d'EHPAD.",
            "Isolement des résidents de maison de retraite.",
            "EHPAD",
        ),
        # (SDF / sans domicile: both are aliases of a shipped theme, matched without it)
        (
            "Places en CHRS l'hiver.",
            "Places en centre d'hébergement et de réinsertion sociale l'hiver.",
            "CHRS",
        ),
        ("Accueil des exilés.", "Accueil des réfugiés.", "exilés"),
    ],
)
def test_equivalences_reach_the_score(
    tmp_path: Path, need: str, enterprise: str, link: str
) -> None:
    with_lexicon, match = text_points(tmp_path / "a", need, enterprise)
    without, _ = text_points(tmp_path / "b", need, enterprise, lexicon=Lexicon(()))
    assert with_lexicon > without + 1.0
    assert any(link in item for item in match.lexicon_links), match.lexicon_links


@pytest.mark.parametrize(
    ("need", "enterprise"),
    [
        ("Les réfugiées isolées.", "Un réfugié isolé."),  # feminine and plural forms
        ("Rénover les logements.", "Rénovation des logements."),  # verb and noun
        ("Favoriser l'insertion.", "Favoriser insertion."),  # elision
        ("Alimentation durable.", "alimentation durable"),  # case and punctuation
    ],
)
def test_word_forms_meet(tmp_path: Path, need: str, enterprise: str) -> None:
    score, match = text_points(tmp_path, need, enterprise, lexicon=Lexicon(()))
    assert score > 50, match
    assert match.matched_words


def test_acronym_keyword_found_through_the_lexicon(tmp_path: Path) -> None:
    needs = needs_document(
        needs=[
            {
                "id": "besoin",
                "territory": "lyon",
                "title": "Insertion",
                "themes": ["mobilites"],
                "description": "Mobilité des habitants.",
                "keywords": ["QPV"],
            }
        ]
    )
    ents = enterprises_document(
        [
            {
                "id": "candidate",
                "name": "Candidate",
                "origin": "Paris",
                "themes": ["mobilites"],
                "description": (
                    "Ateliers vélo dans les quartiers prioritaires de la politique de la ville."
                ),
            }
        ]
    )
    engine = Engine(make_dataset(needs=needs, enterprises=ents))
    match = engine.match("besoin", "candidate", Weights())
    assert "QPV" in match.matched_keywords


@pytest.mark.parametrize(
    ("key_term", "text"),
    [
        # VAE is also a vélo à assistance électrique, CRA a centre de ressources autisme
        ("validation des acquis de l'expérience", "Location de VAE pour aller au travail."),
        ("centre de rétention administrative", "Bilans au CRA pour les enfants autistes."),
    ],
)
def test_an_acronym_with_two_meanings_in_the_field_proves_neither(key_term: str, text: str) -> None:
    needs = needs_document(
        needs=[
            {
                "id": "besoin",
                "territory": "lyon",
                "title": "Besoin",
                "themes": ["mobilites"],
                "description": "Un besoin du territoire.",
                "keywords": [key_term],
            }
        ]
    )
    ents = enterprises_document(
        [
            {
                "id": "candidate",
                "name": "Candidate",
                "origin": "Paris",
                "themes": ["mobilites"],
                "description": text,
            }
        ]
    )
    match = Engine(make_dataset(needs=needs, enterprises=ents)).match(
        "besoin", "candidate", Weights()
    )
    assert key_term not in match.matched_keywords
    assert match.lexicon_links == () and match.keyword_equivalents == ()


def test_shipped_lexicon_is_broad_and_clean() -> None:
    lexicon = load_lexicon()
    assert len(lexicon.groups) >= 150
    assert len({g.domain for g in lexicon.groups}) >= 12
    seen: dict[str, str] = {}
    for group in lexicon.groups:
        for form in (*group.terms, *group.acronyms):
            key = fold(form)
            assert seen.setdefault(key, group.id) == group.id, f"{form} in two groups"


def test_project_lexicon_extends_and_warns(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.yaml"
    path.write_text(
        "schema_version: 1\ngroups:\n"
        "  - id: velo-cargo\n    canonical: vélo-cargo\n    domain: mobilite\n"
        "    terms: [triporteur, biporteur]\n"
        "  - id: mes-exiles\n    canonical: exilés\n    domain: migration\n"
        "    terms: [exilés, personnes déplacées]\n",
        encoding="utf-8",
    )
    lexicon = load_lexicon(path)
    assert {"velo-cargo", "mes-exiles"} <= {g.id for g in lexicon.groups}
    assert len(lexicon.warnings) == 1
    warning = lexicon.warnings[0].format()
    assert warning.startswith(f"{path}:10:13: warning: 'exilés' is in shipped group 'refugies'")


def test_project_lexicon_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.yaml"
    path.write_text(
        "schema_version: 1\ngroups:\n  - id: Vélo\n    canonical: vélo\n    domaine: mobilite\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError) as caught:
        load_lexicon(path)
    lines = [p.format() for p in caught.value.problems]
    assert any(
        line.startswith(f"{path}:3:9: error: id: 'Vélo' is not a valid id") for line in lines
    )
    assert any(f"{path}:5:5: error: unknown field 'domaine'" in line for line in lines)


def test_validate_checks_a_project_lexicon_beside_the_needs(tmp_path: Path) -> None:
    from .factories import write_dataset

    paths = write_dataset(tmp_path)
    (tmp_path / "lexicon.yaml").write_text(
        "schema_version: 1\ngroups:\n  - id: x\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        app, ["validate", "--needs", str(paths.needs), "--enterprises", str(paths.enterprises)]
    )
    assert result.exit_code == 1
    assert "lexicon.yaml:3:5: error: missing required field 'canonical'" in result.stdout


def test_lexicon_command_filters() -> None:
    result = CliRunner().invoke(app, ["lexicon", "EHPAD"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    assert "maison de retraite" in result.stdout
    assert result.stdout.strip().endswith("group") or "groups" in result.stdout


def test_shipped_lexicon_file_is_in_the_package() -> None:
    assert shipped_lexicon_path().is_file()


def test_rank_reports_the_data_s_problems_and_the_lexicon_s_in_one_run(tmp_path: Path) -> None:
    # every problem at once: a broken data file first, then the lexicon's
    from .factories import write_dataset

    paths = write_dataset(tmp_path)
    (tmp_path / "lexicon.yaml").write_text(
        "schema_version: 1\ngroups:\n  - id: x\n", encoding="utf-8"
    )
    args = ["rank", "--needs", str(paths.needs), "--enterprises", str(paths.enterprises)]
    env = {"IMPLANT_MATCH_CACHE": "off"}
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 1
    assert "lexicon.yaml:3:5: error: missing required field 'canonical'" in result.stderr
    paths.enterprises.write_text("enterprises: [\n", encoding="utf-8")
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 1
    data_problem = result.stderr.index("enterprises.yaml:2:1: error: YAML syntax error")
    assert data_problem < result.stderr.index("lexicon.yaml:3:5: error: missing required field")
