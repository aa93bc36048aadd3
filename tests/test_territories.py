"""Nested territories: eligibility and local actors follow the nesting; codes are checked."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import implant_match as im
from implant_match.cli import app
from implant_match.errors import DataError
from implant_match.territories import ancestors, find_cycles, siren_checksum_ok
from tests.factories import DATA

REGION = {"id": "ara", "name": "Auvergne-Rhône-Alpes", "insee": "84"}
OTHER_REGION = {"id": "idf", "name": "Île-de-France", "insee": "11"}


def nested_needs(**changes: Any) -> dict[str, Any]:
    territories = [
        REGION,
        OTHER_REGION,
        {"id": "isere", "name": "Isère", "parent": "ara", "insee": "38"},
        {
            "id": "grenoble",
            "name": "Grenoble Alpes Métropole",
            "parent": "isere",
            "insee": "200040715",
        },
        {"id": "paris", "name": "Paris", "parent": "idf", "insee": "75056"},
    ]
    territories[2]["local_actors"] = [
        {
            "id": "banque-alimentaire-isere",
            "name": "Banque alimentaire de l'Isère",
            "themes": ["aide-alimentaire"],
            "description": "Collecte des denrées et les distribue aux épiceries solidaires.",
        }
    ]
    document: dict[str, Any] = {
        "schema_version": 1,
        "territories": territories,
        "needs": [
            {
                "id": "epicerie-grenoble",
                "territory": "grenoble",
                "title": "Une épicerie solidaire",
                "description": "Des familles précaires sans épicerie solidaire ni colis.",
                "themes": ["aide-alimentaire"],
            },
            {
                "id": "epicerie-paris",
                "territory": "paris",
                "title": "Une épicerie solidaire à Paris",
                "description": "Des familles précaires sans épicerie solidaire ni colis.",
                "themes": ["aide-alimentaire"],
            },
        ],
    }
    document.update(changes)
    return document


ENTERPRISES = {
    "schema_version": 1,
    "enterprises": [
        {
            "id": "epicerie-mobile",
            "name": "Épicerie mobile",
            "origin": "Nantes",
            "description": "Épicerie solidaire itinérante: colis et denrées distribuées.",
            "themes": ["aide-alimentaire"],
            "target_territories": ["ara"],
        }
    ],
}


def test_an_enterprise_targeting_the_region_ranks_for_its_metropoles_needs_only() -> None:
    ds = im.Dataset.from_records(nested_needs(), ENTERPRISES)
    assert [f.enterprise_id for f in im.rank(ds, need="epicerie-grenoble")] == ["epicerie-mobile"]
    assert im.rank(ds, need="epicerie-paris") == []
    excluded = im.explain(ds, "epicerie-mobile", "epicerie-paris").to_dict()
    assert excluded["excluded"] is True
    assert "only wants to set up in ara" in excluded["reason"]


def test_a_department_actor_counts_for_a_metropole_need() -> None:
    ds = im.Dataset.from_records(nested_needs(), ENTERPRISES)
    explanation = im.explain(ds, "epicerie-mobile", "epicerie-grenoble").to_dict()
    actors = explanation["partners"] + explanation["competitors"]
    assert [(a["actor_id"], a["territory"], a["level"]) for a in actors] == [
        ("banque-alimentaire-isere", "isere", 1)
    ]
    # and not for a need of another branch of the tree
    other = im.Dataset.from_records(
        nested_needs(),
        {
            **ENTERPRISES,
            "enterprises": [{**ENTERPRISES["enterprises"][0], "target_territories": None}],
        },
    )
    paris = im.explain(other, "epicerie-mobile", "epicerie-paris").to_dict()
    assert paris["partners"] + paris["competitors"] == []


def test_explain_says_at_which_level_the_actor_is(tmp_path: Any) -> None:
    import yaml

    needs, enterprises = tmp_path / "needs.yaml", tmp_path / "enterprises.yaml"
    needs.write_text(yaml.safe_dump(nested_needs(), allow_unicode=True), encoding="utf-8")
    enterprises.write_text(yaml.safe_dump(ENTERPRISES, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "explain",
            "epicerie-mobile",
            "epicerie-grenoble",
            "--needs",
            str(needs),
            "--enterprises",
            str(enterprises),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Banque alimentaire de l'Isère [at Isère level]" in result.stdout


def test_unknown_parent_and_cycles_are_errors() -> None:
    needs = nested_needs()
    needs["territories"][0] = {**REGION, "parent": "grenoble"}  # ara -> grenoble -> isere -> ara
    needs["territories"][1] = {**OTHER_REGION, "parent": "france"}
    with pytest.raises(DataError) as caught:
        im.Dataset.from_records(needs, ENTERPRISES)
    found = sorted((p.path, p.message) for p in caught.value.problems if p.is_error)
    assert found == [
        (
            "territories[0].parent",
            "territory 'ara' lies in itself: ara -> grenoble -> isere -> ara",
        ),
        ("territories[1].parent", "unknown territory 'france'; did you mean 'ara'?"),
    ]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("123", "insee: '123' is not an official code in territory 'ara'"),
        ("8A", "insee: '8A' is not an official code in territory 'ara'"),
        ("200040716", "insee: '200040716' is not a valid SIREN (its check digit is wrong)"),
    ],
)
def test_insee_codes_are_checked(code: str, message: str) -> None:
    needs = nested_needs()
    needs["territories"][0] = {**REGION, "insee": code}
    with pytest.raises(DataError) as caught:
        im.Dataset.from_records(needs, ENTERPRISES)
    (problem,) = [p for p in caught.value.problems if p.is_error]
    assert problem.path == "territories[0].insee"
    assert problem.message == message


@pytest.mark.parametrize("code", ["84", "38", "2A", "2B", "974", "38185", "2A004", "200046977"])
def test_valid_insee_codes_pass(code: str) -> None:
    needs = nested_needs()
    needs["territories"][0] = {**REGION, "insee": code}
    assert im.Dataset.from_records(needs, ENTERPRISES).territories["ara"].insee == code


def test_bundled_data_nests_the_territories_with_their_codes() -> None:
    ds = im.load_dataset(DATA / "needs.yaml", DATA / "enterprises.yaml")
    codes = {t.id: (t.parent, t.insee) for t in ds.territories.values()}
    assert codes["auvergne-rhone-alpes"] == (None, "84")
    assert codes["metropole-lyon"] == ("auvergne-rhone-alpes", "200046977")
    assert codes["departement-isere"] == ("auvergne-rhone-alpes", "38")
    assert codes["grenoble-alpes-metropole"] == ("departement-isere", "200040715")
    assert siren_checksum_ok("200046977") and siren_checksum_ok("200040715")


parents_maps = st.dictionaries(
    st.sampled_from("abcdefgh"), st.none() | st.sampled_from("abcdefghz"), max_size=8
)


@given(parents_maps)
def test_ancestors_and_cycles_agree_with_a_plain_walk(parents: dict[str, str | None]) -> None:
    chains = ancestors(parents)
    cyclic = {node for cycle in find_cycles(parents) for node in cycle}
    for node in parents:
        walk, current, seen = [], parents[node], {node}
        while current is not None and current in parents and current not in seen:
            walk.append(current)
            seen.add(current)
            current = parents[current]
        if node not in cyclic and (current is None or current not in parents):
            assert chains[node] == tuple(walk)
        assert node not in chains[node] or node in cyclic
        assert len(chains[node]) == len(set(chains[node]))
    for cycle in find_cycles(parents):
        for k, node in enumerate(cycle):
            assert parents[node] == cycle[(k + 1) % len(cycle)]


def test_a_territory_filter_takes_in_the_territories_inside_it() -> None:
    needs = nested_needs()
    needs["territories"][0] = {**REGION, "priority_themes": ["aide-alimentaire"]}
    ds = im.Dataset.from_records(needs, ENTERPRISES)
    assert {f.need.id for f in im.rank(ds, territory="ara")} == {"epicerie-grenoble"}
    assert {f.need.id for f in im.rank(ds, territory="isere")} == {"epicerie-grenoble"}
    assert im.rank(ds, territory="grenoble")[0].need.id == "epicerie-grenoble"
    # the région's priority is met by its métropole's need
    assert im.gaps(ds, territory="ara").to_dict()["priorities_without_need"] == []
    cohort = im.cohort(ds, 1, territory="ara").to_dict()
    assert [a["need_id"] for a in cohort["assignments"]] == ["epicerie-grenoble"]


def test_a_regions_priority_met_inside_it_is_no_warning(tmp_path: Any) -> None:
    import yaml

    from implant_match.dataset import inspect_files
    from implant_match.loading import resolve_paths

    needs = nested_needs()
    needs["territories"][0] = {**REGION, "priority_themes": ["aide-alimentaire", "velo"]}
    paths = (tmp_path / "needs.yaml", tmp_path / "enterprises.yaml")
    for path, document in zip(paths, (needs, ENTERPRISES), strict=True):
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    found = inspect_files(resolve_paths(*paths)).problems
    assert [p.message for p in found] == [
        "priority theme 'velo' of territory 'ara' has no need recorded"
    ]
