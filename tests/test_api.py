"""The public API: what a notebook sees is what the command line prints."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import implant_match as im
from implant_match.cli import app

from .factories import ROOT, bundled, bundled_dataset, needs_document
from .generators import random_documents

PACKAGE = ROOT / "src" / "implant_match"
NEEDS, ENTERPRISES = bundled().needs, bundled().enterprises


def cli_json(*args: str, data: tuple[Path, Path] = (NEEDS, ENTERPRISES)) -> Any:
    files = ["--needs", str(data[0]), "--enterprises", str(data[1])]
    result = CliRunner().invoke(app, [*args, *files], env={"IMPLANT_MATCH_CACHE": "off"})
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def engine() -> im.Engine:
    return im.Engine(bundled_dataset())


@pytest.mark.parametrize(
    ("kwargs", "args"),
    [
        ({}, []),
        (
            {"top": 2, "territory": "metropole-lyon"},
            ["--top", "2", "--territory", "metropole-lyon"],
        ),
        (
            {"theme": "alimentation", "min_score": 40},
            ["--theme", "alimentation", "--min-score", "40"],
        ),
        ({"enterprise": "unir", "top": 3}, ["--enterprise", "unir", "--top", "3"]),
        (
            {"need": ["formation-francais-refugies-lyon"], "stability": False},
            ["--need", "formation-francais-refugies-lyon", "--no-stability"],
        ),
        ({"weights": {"themes": 1, "text": 0}}, ["--weight", "themes=1", "--weight", "text=0"]),
    ],
)
def test_rank_to_dict_is_rank_format_json(
    engine: im.Engine, kwargs: dict[str, Any], args: list[str]
) -> None:
    fits = im.rank(engine, **kwargs)
    assert fits, "the case must rank something to compare"
    assert [f.to_dict() for f in fits] == cli_json("rank", "--format", "json", *args)
    names = {e.id: e.name for e in engine.dataset.enterprises}
    assert [f.to_dict()["enterprise_name"] for f in fits] == [names[f.enterprise_id] for f in fits]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rank_to_dict_is_rank_format_json_on_other_data(seed: int, tmp_path: Path) -> None:
    needs, enterprises = random_documents(seed)
    files = (tmp_path / "needs.yaml", tmp_path / "enterprises.yaml")
    for path, document in zip(files, (needs, enterprises), strict=True):
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    from_memory = im.rank(im.Dataset.from_records(needs, enterprises), top=3)
    assert [f.to_dict() for f in from_memory] == cli_json(
        "rank", "--format", "json", "--top", "3", data=files
    )


def test_explain_gaps_and_cohort_to_dict_are_their_json(engine: im.Engine) -> None:
    pair = ("unir", "formation-francais-refugies-lyon")
    explanation = im.explain(engine, *pair)
    assert not explanation.excluded and explanation.match is not None
    assert explanation.to_dict() == cli_json("explain", *pair, "--format", "json")
    parts = explanation.to_dict()["components"]
    assert sum(p["points"] for p in parts) == pytest.approx(
        explanation.to_dict()["score"], abs=0.05
    )
    report = im.gaps(engine, threshold=60)
    assert report.to_dict() == cli_json("gaps", "--threshold", "60", "--format", "json")
    promotion = im.cohort(engine, 3, territory="metropole-lyon")
    assert promotion.to_dict() == cli_json(
        "cohort", "--size", "3", "--territory", "metropole-lyon", "--format", "json"
    )


def test_an_excluded_pair_explains_why_as_data(engine: im.Engine) -> None:
    enterprise = next(e for e in engine.dataset.enterprises if e.target_territories)
    need = next(n for n in engine.dataset.needs if not enterprise.accepts(n.territory))
    record = im.explain(engine, enterprise.id, need.id).to_dict()
    assert record["excluded"] is True
    assert record["territory"] == need.territory
    assert record["target_territories"] == list(enterprise.target_territories or ())


def test_a_dataset_and_an_engine_rank_alike() -> None:
    dataset = bundled_dataset()
    assert [f.to_dict() for f in im.rank(dataset, top=2)] == [
        f.to_dict() for f in im.rank(im.Engine(dataset), top=2)
    ]


def test_unknown_ids_raise_named_errors(engine: im.Engine) -> None:
    with pytest.raises(im.UnknownIdError, match="did you mean 'unir'"):
        im.explain(engine, "unirr", "formation-francais-refugies-lyon")
    with pytest.raises(im.UsageError):
        im.rank(engine, territory="lyon-metropole")


def test_records_in_memory_have_their_problems_located_by_path() -> None:
    needs = needs_document()
    needs["needs"][1]["themes"] = ["francais", "no-such-theme"]
    del needs["needs"][0]["title"]
    enterprises = {"schema_version": 1, "enterprises": [{"id": "x", "name": "X"}]}
    with pytest.raises(im.DataError) as raised:
        im.Dataset.from_records(needs, enterprises)
    found = {p.path: p for p in raised.value.problems}
    assert "unknown theme 'no-such-theme'" in found["needs[1].themes[1]"].message
    assert "title" in found["needs[0]"].message
    assert "enterprises[0]" in found
    assert all(p.line == 0 for p in raised.value.problems)


def test_records_in_memory_take_a_project_lexicon() -> None:
    lexicon = {
        "schema_version": 1,
        "groups": [{"id": "x", "domain": "test", "canonical": "zorglub", "terms": ["zorg"]}],
    }
    needs, enterprises = random_documents(4)
    dataset = im.Dataset.from_records(needs, enterprises, lexicon)
    assert any(g.canonical == "zorglub" for g in dataset.lexicon.groups)
    with pytest.raises(im.DataError) as raised:
        im.Dataset.from_records(needs, enterprises, {"schema_version": 1, "groups": [{}]})
    assert {p.path for p in raised.value.problems if p.is_error} == {"groups[0]"}


def test_module_names_do_not_shadow_the_api_s_functions() -> None:
    import implant_match.gap_report
    import implant_match.promotion  # noqa: F401 - importing a submodule sets an attribute

    assert callable(im.gaps) and callable(im.cohort) and callable(im.rank)
    assert not (PACKAGE / "gaps.py").exists() and not (PACKAGE / "explain.py").exists()


@pytest.mark.slow
def test_the_issue_s_one_liner_works_from_a_fresh_interpreter() -> None:
    code = (
        "import implant_match as im; ds = im.load_dataset(needs='data/needs.yaml', "
        "enterprises='data/enterprises.yaml'); print(im.rank(ds, top=3)[0].to_dict())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "'need_id':" in done.stdout and "'enterprise_id':" in done.stdout


@pytest.mark.slow
def test_importing_the_package_imports_nothing_heavy() -> None:
    code = (
        "import sys, implant_match; "
        "print(sorted(m for m in ('numpy', 'pydantic', 'rich') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _imports(path: Path) -> set[str]:
    """The package's modules ``path`` imports at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("implant_match.")
        ):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {
                a.name.split(".")[1] for a in node.names if a.name.startswith("implant_match.")
            }
    return found


def test_no_import_cycle_between_modules() -> None:
    graph = {p.stem: _imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(m for m in graph if reaches(m, m, {m}))
    assert cycles == []


def test_only_the_cli_imports_typer_and_no_engine_stage_imports_rich() -> None:
    engine_stages = {
        "loading",
        "validation",
        "dataset",
        "analysis",
        "scoring",
        "topk",
        "ranking",
        "stability",
        "gap_report",
        "promotion",
        "results",
        "api",
        "session",
        "prefetch",
        "cache",
        "runtime",
        "text",
        "lexicon",
        "models",
        "weights",
    }
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.stem not in {"cli", "cli_words"}:  # the CLI layer: the command line, its words
            assert "import typer" not in text, path.name
        if path.stem in engine_stages:
            assert "from rich" not in text and "import rich" not in text, path.name
