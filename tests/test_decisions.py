"""The committee's decisions and the selection: each status's effect on rank, export and
cohort, scopes, French aliases, presence on a territory, the team's own fields, and a bad
decisions file reported like the other files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import implant_match as im
from implant_match.cli import app
from implant_match.decisions import Status, validate_decisions
from implant_match.errors import DataError
from implant_match.loading import parse_document
from implant_match.selection import place_words

from .factories import enterprises_document, needs_document, write_dataset
from .profiles import examples

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "IMPLANT_MATCH_CACHE": "off"}
LEFT_OUT = {"rejected", "ineligible"}


def decisions_doc(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": 1, "decisions": list(entries)}


def dataset(*entries: dict[str, Any], enterprises: Any = None) -> im.Dataset:
    return im.Dataset.from_records(
        needs_document(),
        enterprises or enterprises_document(),
        decisions=decisions_doc(*entries) if entries else None,
    )


def ranked(ds: im.Dataset, **options: Any) -> dict[tuple[str, str], dict[str, Any]]:
    fits = im.rank(ds, top=10, stability=False, **options)
    return {(f.need.id, f.enterprise_id): f.to_dict() for f in fits}


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=ENV)


# -- each status, in rank, export and cohort ---------------------------------------------


@pytest.mark.parametrize("status", [s.value for s in Status])
def test_each_status_in_rank(status: str) -> None:
    ds = dataset({"enterprise": "langues", "need": "fle-lyon", "status": status, "note": "vu"})
    shown = ranked(ds, need="fle-lyon")
    if status in LEFT_OUT:
        assert ("fle-lyon", "langues") not in shown
    else:
        record = shown[("fle-lyon", "langues")]
        assert (record["status"], record["note"]) == (status, "vu")
    decided = ranked(ds, need="fle-lyon", show_decided=True)[("fle-lyon", "langues")]
    assert (decided["status"], decided["note"]) == (status, "vu")
    assert ranked(dataset(), need="fle-lyon")[("fle-lyon", "langues")]["status"] is None


@pytest.mark.parametrize("status", [s.value for s in Status])
def test_each_status_in_export(status: str, tmp_path: Path) -> None:
    paths = write_dataset(tmp_path)
    (tmp_path / "decisions.yaml").write_text(
        yaml.safe_dump(
            decisions_doc(
                {"enterprise": "langues", "need": "fle-lyon", "status": status, "note": "vu"}
            ),
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    result = run(
        "export", str(out), "--needs", str(paths.needs), "--enterprises", str(paths.enterprises),
        "--dialect", "rfc4180", "--no-stability",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    pairs = {(r["need_id"], r["enterprise_id"]): r for r in rows}
    if status in LEFT_OUT:
        assert ("fle-lyon", "langues") not in pairs
    else:
        assert (
            pairs[("fle-lyon", "langues")]["status"],
            pairs[("fle-lyon", "langues")]["note"],
        ) == (
            status,
            "vu",
        )
    assert pairs[("fle-lyon", "velo")]["status"] == ""
    assert list(rows[0])[-5:] == ["status", "note", "present", "extra", "need_extra"]


@pytest.mark.parametrize("status", [s.value for s in Status])
def test_each_status_in_cohort(status: str) -> None:
    # langues is by far the best for the high-priority need: chosen unless left out
    ds = dataset({"enterprise": "langues", "status": status})
    cohort = im.cohort(ds, 1, territory="lyon")
    chosen = [m.enterprise_id for m in cohort.enterprises]
    if status in LEFT_OUT:
        assert "langues" not in chosen
    else:
        assert chosen == ["langues"]
    assert cohort.to_dict()["selected"] == (["langues"] if status == "selected" else [])


def test_selected_enterprises_are_pinned_in_cohort() -> None:
    free = im.cohort(dataset(), 1, territory="lyon")
    assert [m.enterprise_id for m in free.enterprises] == ["langues"]
    pinned = im.cohort(dataset({"enterprise": "velo", "status": "retenue"}), 1, territory="lyon")
    assert [m.enterprise_id for m in pinned.enterprises] == ["velo"]
    assert pinned.objective < free.objective


def test_rank_exclude_and_include() -> None:
    assert ("fle-lyon", "langues") not in ranked(dataset(), exclude=["langues"])
    rejected = dataset({"enterprise": "langues", "status": "rejected"})
    assert ("fle-lyon", "langues") not in ranked(rejected)
    assert ranked(rejected, include=["langues"])[("fle-lyon", "langues")]["status"] == "rejected"
    with pytest.raises(im.UnknownIdError, match="did you mean 'langues'"):
        ranked(dataset(), exclude=["langue"])


def test_cli_rank_exclude_include_and_show_decided(tmp_path: Path) -> None:
    paths = write_dataset(tmp_path)
    (tmp_path / "decisions.yaml").write_text(
        "schema_version: 1\ndecisions:\n  - enterprise: langues\n    status: écartée\n"
        "    note: déjà suivie\n",
        encoding="utf-8",
    )
    data = ["--needs", str(paths.needs), "--enterprises", str(paths.enterprises)]
    hidden = run("rank", *data, "--need", "fle-lyon", "--no-stability")
    assert "Langues Ensemble" not in hidden.stdout
    shown = run("rank", *data, "--need", "fle-lyon", "--no-stability", "--show-decided")
    assert "Langues Ensemble" in shown.stdout and "rejected" in shown.stdout
    assert "déjà suivie" in shown.stdout
    excluded = run("rank", *data, "--need", "fle-lyon", "--no-stability", "--exclude", "velo")
    assert "Vélo Pour Tous" in hidden.stdout and "Vélo Pour Tous" not in excluded.stdout
    records = json.loads(
        run("rank", *data, "--need", "fle-lyon", "--format", "json", "--include", "langues").stdout
    )
    assert (records[0]["enterprise_id"], records[0]["status"]) == ("langues", "rejected")


# -- scopes and aliases ------------------------------------------------------------------------


def test_the_most_specific_decision_wins() -> None:
    ds = dataset(
        {"enterprise": "velo", "status": "rejected"},
        {"enterprise": "velo", "territory": "grenoble", "status": "shortlisted"},
    )
    shown = ranked(ds)
    assert ("fle-lyon", "velo") not in shown  # everywhere: rejected
    assert shown[("repas-grenoble", "velo")]["status"] == "shortlisted"  # territory wins
    ds = dataset(
        {"enterprise": "velo", "territory": "lyon", "status": "rejected"},
        {"enterprise": "velo", "need": "fle-lyon", "status": "on-hold"},
    )
    assert ranked(ds)[("fle-lyon", "velo")]["status"] == "on-hold"  # the need wins


@pytest.mark.parametrize(
    ("written", "status"),
    [
        ("présélectionnée", "shortlisted"),
        ("Retenue", "selected"),
        ("écartée", "rejected"),
        ("refusee", "rejected"),
        ("inéligible", "ineligible"),
        ("en attente", "on-hold"),
        ("on-hold", "on-hold"),
    ],
)
def test_french_aliases(written: str, status: str) -> None:
    ds = dataset({"enterprise": "langues", "need": "fle-lyon", "status": written})
    assert ranked(ds, show_decided=True)[("fle-lyon", "langues")]["status"] == status


# -- a bad decisions file ----------------------------------------------------------------------

BAD = """\
schema_version: 1
decisions:
  - enterprise: langue
    need: fle-lyon
    status: rejetée
  - enterprise: velo
    need: repas-grenobl
    status: selected
    statut: ok
  - enterprise: velo
    need: fle-lyon
    territory: grenoble
    status: on-hold
"""


def test_a_bad_decisions_file_is_reported_line_by_line(tmp_path: Path) -> None:
    paths = write_dataset(tmp_path)
    (tmp_path / "decisions.yaml").write_text(BAD, encoding="utf-8")
    data = ["--needs", str(paths.needs), "--enterprises", str(paths.enterprises)]
    result = run("validate", *data)
    assert result.exit_code == 1
    where = str(tmp_path / "decisions.yaml")
    lines = [
        line.replace(where, "decisions.yaml")
        for line in result.stdout.splitlines()
        if line.startswith(where)
    ]
    assert lines == [
        "decisions.yaml:3:17: error: unknown enterprise 'langue'; did you mean 'langues'?",
        "decisions.yaml:5:13: error: status: 'rejetée' is not a status; expected shortlisted, "
        "selected, rejected, ineligible or on-hold (or présélectionnée, retenue, écartée, "
        "refusée, inéligible, en attente); did you mean 'rejected'? in decision #1",
        "decisions.yaml:7:11: error: unknown need 'repas-grenobl'; did you mean 'repas-grenoble'?",
        "decisions.yaml:9:5: error: unknown field 'statut' in decision #2; did you mean "
        "'status'? (allowed fields: enterprise, need, territory, status, note, date, by)",
        "decisions.yaml:12:16: error: need 'fle-lyon' is in territory 'lyon', not 'grenoble' "
        "(leave 'territory' out when a need is given)",
    ]
    for command in (["rank"], ["export", str(tmp_path / "x.csv")], ["cohort", "--size", "1"]):
        failed = run(*command, *data)
        assert failed.exit_code == 1, command
        assert "Traceback" not in failed.stderr + failed.stdout
        assert f"{where}:3:17: error: unknown enterprise 'langue'" in failed.stderr
    assert not (tmp_path / "x.csv").exists()


def test_a_bad_decisions_record_raises_data_error_located_by_path() -> None:
    with pytest.raises(DataError) as caught:
        dataset({"enterprise": "velo", "status": "maybe"})
    (problem,) = [p for p in caught.value.problems if p.is_error]
    assert problem.path == "decisions[0].status"
    assert "'maybe' is not a status" in problem.message


# -- presence ------------------------------------------------------------------------------


def present_enterprises() -> dict[str, Any]:
    document = enterprises_document()
    document["enterprises"][0]["present_in"] = ["lyon"]
    return document


def test_present_enterprises_are_left_out_of_their_territory_and_flagged() -> None:
    ds = dataset(enterprises=present_enterprises())
    assert ("fle-lyon", "langues") not in ranked(ds)
    kept = ranked(ds, keep_present=True)[("fle-lyon", "langues")]
    assert kept["present"] is True
    assert ranked(ds, keep_present=True)[("fle-lyon", "velo")]["present"] is False
    assert [m.enterprise_id for m in im.cohort(ds, 1, territory="lyon").enterprises] != ["langues"]
    chosen = im.cohort(ds, 1, territory="lyon", keep_present=True).enterprises
    assert [m.enterprise_id for m in chosen] == ["langues"]


def test_present_is_shown_in_the_table(tmp_path: Path) -> None:
    paths = write_dataset(tmp_path, enterprises=present_enterprises())
    data = ["--needs", str(paths.needs), "--enterprises", str(paths.enterprises)]
    out = run("rank", *data, "--need", "fle-lyon", "--keep-present", "--no-stability").stdout
    assert "already present" in out  # the cell wraps "on the territory" below
    out = run("rank", *data, "--need", "fle-lyon", "--no-stability").stdout
    assert "already present" not in out and "Langues Ensemble" not in out


def test_validate_warns_when_the_origin_is_inside_a_ranked_territory(tmp_path: Path) -> None:
    document = enterprises_document()
    document["enterprises"][2]["origin"] = "Lyon 7e"
    paths = write_dataset(tmp_path, enterprises=document)
    result = run("validate", "--needs", str(paths.needs), "--enterprises", str(paths.enterprises))
    assert (
        "warning: enterprise 'velo' comes from Lyon 7e, inside territory 'lyon' (Métropole de "
        "Lyon), where it is ranked as a newcomer (if it already works there, add present_in: "
        "[lyon])"
    ) in result.stdout
    document["enterprises"][2]["present_in"] = ["lyon"]
    paths = write_dataset(tmp_path, enterprises=document)
    result = run("validate", "--needs", str(paths.needs), "--enterprises", str(paths.enterprises))
    assert "newcomer" not in result.stdout


def test_present_in_names_known_territories() -> None:
    document = enterprises_document()
    document["enterprises"][0]["present_in"] = ["lyn"]
    with pytest.raises(DataError) as caught:
        dataset(enterprises=document)
    assert [p.message for p in caught.value.problems if p.is_error] == [
        "unknown territory 'lyn'; did you mean 'lyon'?"
    ]


def test_place_words_drop_generic_words() -> None:
    assert place_words("Métropole de Lyon") == {"lyon"}
    assert place_words("Vallée de l'Arve (Haute-Savoie)") == {"arve", "haute-savoie"}


@pytest.mark.parametrize(
    ("origin", "territory"),
    [
        ("Limoges (Haute-Vienne)", "Vallée de l'Arve (Haute-Savoie)"),
        ("Mâcon (Saône-et-Loire)", "Roannais Agglomération (Loire)"),
        ("Moûtiers, Tarentaise (Savoie)", "Annemasse (Haute-Savoie)"),
    ],
)
def test_a_place_is_not_found_inside_another_that_shares_a_word(
    origin: str, territory: str
) -> None:
    assert not place_words(origin) & place_words(territory)


def test_a_place_named_in_both_is_found() -> None:
    assert place_words("Roanne (Loire)") & place_words("Roannais Agglomération (Loire)")
    assert place_words("Lyon 7e") & place_words("Métropole de Lyon")
    assert place_words("Lyon (quartiers populaires de la métropole)") & {"lyon"}


def test_bundled_data_declares_vrac_and_les_petites_cantines_present_in_lyon() -> None:
    ds = im.load_dataset("data/needs.yaml", "data/enterprises.yaml")
    cohort = im.cohort(ds, 8, territory="metropole-lyon")
    chosen = {m.enterprise_id for m in cohort.enterprises}
    assert not chosen & {"vrac", "les-petites-cantines"}
    assert not any("newcomer" in p.message for p in ds.warnings)


# -- the team's own fields ---------------------------------------------------------------------


def test_extra_fields_are_kept_exported_and_never_scored(tmp_path: Path) -> None:
    plain = ranked(dataset())
    document = enterprises_document()
    document["enterprises"][0]["extra"] = {"contact": "a@b.fr", "tags": ["fle", 2]}
    needs = needs_document()
    needs["needs"][0]["extra"] = {"referent": "Camille"}
    needs["territories"][0]["local_actors"][0]["extra"] = {"source": "annuaire"}
    ds = im.Dataset.from_records(needs, document)
    extra = ranked(ds)
    assert extra[("fle-lyon", "langues")]["extra"] == {"contact": "a@b.fr", "tags": ["fle", 2]}
    assert extra[("fle-lyon", "langues")]["need_extra"] == {"referent": "Camille"}
    assert {k: v["score"] for k, v in extra.items()} == {k: v["score"] for k, v in plain.items()}
    paths = write_dataset(tmp_path, needs, document)
    out = tmp_path / "out.csv"
    data = ["--needs", str(paths.needs), "--enterprises", str(paths.enterprises)]
    assert run("export", str(out), *data, "--dialect", "rfc4180").exit_code == 0
    rows = {r["enterprise_id"]: r for r in csv.DictReader(io.StringIO(out.read_text()))}
    assert rows["langues"]["extra"] == "contact: a@b.fr | tags: fle, 2"
    assert rows["langues"]["need_extra"] == "referent: Camille"


def test_extra_values_are_scalars_or_lists() -> None:
    document = enterprises_document()
    document["enterprises"][0]["extra"] = {"contact": {"nested": "no"}}
    with pytest.raises(DataError):
        dataset(enterprises=document)


def test_explain_shows_the_status_of_the_pair(tmp_path: Path) -> None:
    ds = dataset({"enterprise": "langues", "need": "fle-lyon", "status": "refusée", "note": "non"})
    record = im.explain(ds, "langues", "fle-lyon").to_dict()
    assert (record["status"], record["note"], record["present"]) == ("rejected", "non", False)
    paths = write_dataset(tmp_path, enterprises=present_enterprises())
    (tmp_path / "decisions.yaml").write_text(
        "schema_version: 1\ndecisions:\n  - enterprise: langues\n    status: on-hold\n"
        "    note: à revoir\n",
        encoding="utf-8",
    )
    data = ["--needs", str(paths.needs), "--enterprises", str(paths.enterprises)]
    out = run("explain", "langues", "fle-lyon", *data).stdout
    assert "Status: on hold · à revoir · already present on the territory" in out


def test_cohort_assignments_carry_the_pair_status() -> None:
    ds = dataset(
        {"enterprise": "langues", "need": "fle-lyon", "status": "shortlisted", "note": "ok"}
    )
    assignments = im.cohort(ds, 1, territory="lyon").to_dict()["assignments"]
    assert [(a["enterprise_id"], a["status"], a["note"]) for a in assignments] == [
        ("langues", "shortlisted", "ok")
    ]


@pytest.mark.parametrize("date", ["2026-02-30", "2026-13-01", "12/03/2026"])
def test_dates_must_be_days_of_the_calendar(date: str) -> None:
    with pytest.raises(DataError) as caught:
        dataset({"enterprise": "velo", "status": "rejected", "date": date})
    (problem,) = [p for p in caught.value.problems if p.is_error]
    assert problem.path == "decisions[0].date"


@settings(max_examples=examples(60), deadline=None)
@given(text=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300))
def test_no_decisions_text_gives_a_traceback(text: str) -> None:
    prefix = "schema_version: 1\ndecisions:\n  - "
    document = f"{prefix}{text}"
    try:
        parsed = parse_document(document, "decisions.yaml")
    except DataError as exc:  # unreadable YAML: located problems, as for every file
        assert all(p.path == "decisions.yaml" for p in exc.problems)
        return
    found, problems = validate_decisions(parsed, {"fle-lyon": "lyon"}, ["langues"], ["lyon"])
    assert found is not None or any(p.is_error for p in problems)
    assert all(p.line >= 1 for p in problems)
