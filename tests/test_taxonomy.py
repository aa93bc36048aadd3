"""The shipped theme taxonomy: its content, its merge with a needs file's themes, `themes`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import implant_match as im
from implant_match.cli import app
from implant_match.errors import DataError
from implant_match.lexicon import load_lexicon
from implant_match.taxonomy import (
    load_taxonomy,
    merge_themes,
    search_themes,
    shipped_taxonomy_path,
    theme_tree,
)
from implant_match.territories import find_cycles
from implant_match.text import fold
from tests.factories import enterprises_document, needs_document

SHIPPED = load_taxonomy().themes
FIELDS = [
    "alimentation",
    "logement",
    "mobilites",
    "insertion-professionnelle",
    "education",
    "sante",
    "personnes-agees",
    "handicap",
    "accueil-refugies",
    "inclusion-numerique",
    "economie-circulaire",
    "transition-energetique",
    "culture",
    "sport",
]


def test_the_taxonomy_covers_the_fields_of_social_action() -> None:
    ids = {t.id for t in SHIPPED}
    assert set(FIELDS) <= ids
    assert len(SHIPPED) >= 60


def test_the_taxonomy_is_a_tree_of_two_or_three_levels() -> None:
    by_id = {t.id: t for t in SHIPPED}
    assert len(by_id) == len(SHIPPED), "duplicate ids"
    assert all(t.parent is None or t.parent in by_id for t in SHIPPED)
    assert find_cycles({t.id: t.parent for t in SHIPPED}) == []
    depths = {depth for depth, _ in theme_tree(SHIPPED)}
    assert depths == {0, 1, 2}


def test_each_alias_signals_one_theme_only() -> None:
    owner: dict[str, str] = {}
    for theme in SHIPPED:
        for form in {fold(f) for f in (theme.label, *theme.aliases)}:
            assert owner.setdefault(form, theme.id) == theme.id, (form, owner[form], theme.id)


def test_lexicon_links_name_existing_groups_and_sdgs_are_goals() -> None:
    groups = {g.id for g in load_lexicon().groups}
    links = [(t.id, g) for t in SHIPPED for g in t.lexicon]
    assert links, "no theme is linked to the lexicon"
    assert [(t, g) for t, g in links if g not in groups] == []
    assert all(1 <= goal <= 17 for t in SHIPPED for goal in t.sdg)


def test_the_file_cites_its_sources_and_says_what_is_its_own() -> None:
    text = shipped_taxonomy_path().read_text(encoding="utf-8").split("schema_version")[0]
    header = " ".join(text.replace("#", " ").split())
    for source in ("CASF", "ESS France", "CRESS", "Sustainable Development Goals"):
        assert source in header
    assert "our own grouping" in header


def test_needs_file_without_themes_validates_and_ranks() -> None:
    needs = needs_document()
    del needs["themes"]
    needs["territories"][0]["priority_themes"] = ["alimentation"]
    needs["territories"][0]["local_actors"][0]["themes"] = ["accueil-refugies"]
    needs["needs"][0]["themes"] = ["apprentissage-francais"]
    enterprises = enterprises_document()
    enterprises["enterprises"][0]["themes"] = ["apprentissage-francais", "accueil-refugies"]
    enterprises["enterprises"][2]["themes"] = ["velo"]
    ds = im.Dataset.from_records(needs, enterprises)
    best = im.rank(ds, need="fle-lyon", top=1)
    assert best[0].enterprise_id == "langues"
    assert best[0].to_dict()["matched_themes"] == ["apprentissage-francais"]


def test_unknown_theme_is_still_an_error_with_a_suggestion() -> None:
    needs = needs_document()
    del needs["themes"]
    needs["territories"][0]["priority_themes"] = []
    needs["territories"][0]["local_actors"] = []
    needs["needs"][0]["themes"] = ["apprentisage-francais"]
    needs["needs"][1]["themes"] = ["aide-alimentaire"]
    enterprises = enterprises_document([])
    with pytest.raises(DataError) as caught:
        im.Dataset.from_records(needs, enterprises)
    messages = [p.message for p in caught.value.problems if p.is_error]
    assert messages == [
        "unknown theme 'apprentisage-francais'; did you mean 'apprentissage-francais'?"
    ]


def test_a_needs_file_extends_and_overrides_the_taxonomy() -> None:
    needs = needs_document()
    needs["themes"] = [
        # a child of a shipped theme, and a shipped id replaced
        {"id": "glanage-solidaire", "label": "Glanage solidaire", "parent": "aide-alimentaire"},
        {"id": "velo", "label": "Vélo cargo", "parent": "mobilites", "aliases": ["vélo cargo"]},
    ]
    needs["territories"][0]["local_actors"][0]["themes"] = ["accueil-refugies"]
    needs["needs"][0]["themes"] = ["apprentissage-francais"]
    needs["needs"][1]["themes"] = ["glanage-solidaire"]
    ents = enterprises_document()
    ents["enterprises"][0]["themes"] = ["apprentissage-francais"]
    ents["enterprises"][2]["themes"] = ["velo"]
    ds = im.Dataset.from_records(needs, ents)
    assert ds.themes["glanage-solidaire"].parent == "aide-alimentaire"
    assert ds.themes["velo"].label == "Vélo cargo"
    assert ds.themes["alimentation"].label == "Alimentation"


def test_a_claimed_alias_leaves_the_shipped_theme() -> None:
    own = [im_theme("mon-theme", "Mon thème", ["épicerie solidaire"])]
    merged = {t.id: t for t in merge_themes(own)}
    assert "épicerie solidaire" in merged["mon-theme"].aliases
    assert "épicerie solidaire" not in merged["aide-alimentaire"].aliases


def test_a_cycle_through_shipped_themes_is_an_error() -> None:
    needs = needs_document()
    needs["themes"] = [{"id": "alimentation", "label": "Alimentation", "parent": "circuits-courts"}]
    needs["territories"][0]["local_actors"] = []
    needs["territories"][0]["priority_themes"] = []
    needs["needs"][0]["themes"] = ["alimentation"]
    needs["needs"][1]["themes"] = ["alimentation"]
    with pytest.raises(DataError) as caught:
        im.Dataset.from_records(needs, enterprises_document([]))
    (problem,) = [p for p in caught.value.problems if p.is_error]
    assert problem.path == "themes[0].parent"
    assert problem.message == (
        "theme 'alimentation' is its own ancestor: alimentation -> circuits-courts -> alimentation"
    )


def test_search_keeps_the_ancestors_of_what_it_finds() -> None:
    found = [t.id for t in search_themes(SHIPPED, "CRECHE")]
    assert found == ["enfance-famille", "petite-enfance"]


def test_themes_command_lists_the_tree() -> None:
    result = CliRunner().invoke(app, ["themes", "atelier vélo"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    mobilites = next(i for i, line in enumerate(lines) if line.strip().startswith("mobilites"))
    velo = next(i for i, line in enumerate(lines) if line.strip().startswith("velo "))
    assert velo > mobilites
    assert lines[velo].index("velo") > lines[mobilites].index("mobilites")  # indented
    assert "atelier vélo" in result.stdout
    assert "2 themes (shipped taxonomy 2026.1)" in result.stdout


def test_themes_command_shows_a_needs_file_own_themes(tmp_path: Path) -> None:
    needs = needs_document()
    path = tmp_path / "needs.yaml"
    path.write_text(yaml.safe_dump(needs, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(app, ["themes", "migrations", "--needs", str(path)])
    assert result.exit_code == 0, result.output
    assert "Accueil des personnes réfugiées" in result.stdout
    assert "1 theme " in result.stdout


def im_theme(theme_id: str, label: str, aliases: list[str]) -> Any:
    from implant_match.models import Theme

    return Theme(id=theme_id, label=label, aliases=tuple(aliases))


def test_themes_command_speaks_json_for_programs() -> None:
    import json

    result = CliRunner().invoke(app, ["themes", "crèche", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["version"] == load_taxonomy().version
    assert [(t["depth"], t["id"], t["parent"]) for t in document["themes"]] == [
        (0, "enfance-famille", None),
        (1, "petite-enfance", "enfance-famille"),
    ]
    assert "crèche" in document["themes"][1]["aliases"]
