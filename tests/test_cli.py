"""The commands as people read them: golden outputs at 80 columns, and agreement of the
table, the JSON and ``explain`` on every number."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from implant_match import __version__
from implant_match.cli import app

from .factories import ROOT, bundled, bundled_dataset, write_dataset

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("IMPLANT_MATCH_UPDATE_GOLDEN") == "1"
NEEDS, ENTERPRISES = bundled().needs, bundled().enterprises
DATA_ARGS = ["--needs", str(NEEDS), "--enterprises", str(ENTERPRISES)]
ENV = {"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=ENV)
    return result.exit_code, result.stdout, result.stderr


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} changed; rerun with IMPLANT_MATCH_UPDATE_GOLDEN=1 if meant"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        (
            "rank_refugees.txt",
            [
                "rank",
                "--need",
                "formation-francais-refugies-lyon",
                "--need",
                "produits-premiere-necessite-lyon",
                "--top",
                "3",
            ],
        ),
        ("rank_enterprise_unir.txt", ["rank", "--enterprise", "unir", "--top", "3"]),
        ("explain_unir.txt", ["explain", "unir", "formation-francais-refugies-lyon"]),
        ("explain_excluded.txt", ["explain", "unir", "emploi-jeunes-isere"]),
        ("gaps.txt", ["gaps"]),
        ("cohort_lyon.txt", ["cohort", "--size", "4", "--territory", "metropole-lyon"]),
    ],
)
def test_golden_outputs(name: str, args: list[str], real_model_cache: dict[str, str]) -> None:
    """What people read, with the real default model."""
    result = CliRunner().invoke(app, [*args, *DATA_ARGS], env={**ENV, **real_model_cache})
    code, out, err = result.exit_code, result.stdout, result.stderr
    assert code == 0, err
    assert "\x1b[" not in out  # no colour codes when piped
    assert max(len(line) for line in out.splitlines()) <= 80
    check_golden(name, out)


@pytest.mark.slow
def test_version_and_help() -> None:
    code, out, _ = run("--version")
    assert (code, out) == (0, f"implant-match {__version__}\n")
    code, out, _ = run("--help")
    assert code == 0
    for command in ("validate", "rank", "explain", "export", "gaps", "cohort", "lexicon"):
        assert command in out


@pytest.mark.slow
def test_python_dash_m_runs_the_same_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "implant_match", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout == f"implant-match {__version__}\n"


@pytest.mark.slow
@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (2, 2), ("stopped", 1)])
def test_the_quick_exit_keeps_the_statuses_of_sys_exit(code: object, status: int) -> None:
    """``main`` ends with ``os._exit``: buffered output must still come out, statuses hold."""
    script = (
        "import sys; sys.stdout.write('written'); "
        f"from implant_match.cli import _exit; _exit({code!r})"
    )
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, env=buffered
    )
    assert done.returncode == status
    assert done.stdout == "written"  # a pipe is block-buffered: flushed before the exit
    assert done.stderr == ("stopped\n" if isinstance(code, str) else "")


@pytest.mark.slow
def test_a_real_process_reports_bad_input_with_status_1(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "implant_match", "rank", "--needs", str(tmp_path / "no.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert f"{tmp_path / 'no.yaml'}: error: no such file" in done.stderr
    assert done.stdout == ""


@pytest.mark.slow
def test_runs_from_an_empty_folder_on_the_bundled_data(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "implant_match",
            "rank",
            "--top",
            "1",
            "--format",
            "json",
            "--no-stability",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    pairs = json.loads(done.stdout)
    assert {p["need_id"] for p in pairs} >= {"formation-francais-refugies-lyon"}


def test_json_fields_and_order() -> None:
    code, out, _ = run("rank", "--format", "json", "--top", "5", *DATA_ARGS)
    assert code == 0
    pairs = json.loads(out)
    assert pairs
    required = {
        "need_id",
        "enterprise_id",
        "rank",
        "score",
        "components",
        "matched_themes",
        "matched_keywords",
        "reasons",
        "partners",
        "competitors",
        "stability",
    }
    for pair in pairs:
        assert required <= set(pair)
        assert set(pair["components"]) == {
            "themes",
            "text",
            "keywords",
            "meaning",
            "complementarity",
        }
        assert sum(pair["components"].values()) == pytest.approx(pair["score"], abs=0.03)
        assert 0 <= pair["score"] <= 100
        assert pair["reasons"] and all(isinstance(r, str) for r in pair["reasons"])
    by_need: dict[str, list[dict[str, object]]] = {}
    for pair in pairs:
        by_need.setdefault(str(pair["need_id"]), []).append(pair)
    for items in by_need.values():
        assert [p["rank"] for p in items] == list(range(1, len(items) + 1))
        assert len(items) <= 5


def test_table_json_and_explain_agree() -> None:
    need = "formation-francais-refugies-lyon"
    _, out, _ = run("rank", "--need", need, "--top", "3", "--format", "json", *DATA_ARGS)
    pairs = json.loads(out)
    _, table, _ = run("rank", "--need", need, "--top", "3", *DATA_ARGS)
    shown = re.findall(r"^\s*(\d+)\s+\S.*?\s(\d{1,3}\.\d)\s", table, flags=re.M)
    assert [(int(r), float(s)) for r, s in shown] == [
        (p["rank"], round(p["score"], 1)) for p in pairs
    ]
    for pair in pairs:
        _, text, _ = run("explain", pair["enterprise_id"], need, *DATA_ARGS)
        total = re.search(r"│ total\s+│\s+│\s+│\s+([\d.]+) │", text)
        assert total and float(total.group(1)) == round(pair["score"], 1)
        for part, points in pair["components"].items():
            row = re.search(rf"│ {part}\s+│\s+([\d.]+) │\s+([-+][\d.]+) │\s+([-+][\d.]+) │", text)
            assert row, part
            assert float(row.group(3)) == pytest.approx(points, abs=0.051)

        themes = bundled_dataset().themes
        for theme in pair["matched_themes"]:  # explain names each matched theme
            assert f"{themes[theme].label} — " in text


def test_unknown_ids_are_usage_errors_with_suggestions() -> None:
    code, _, err = run("explain", "unri", "formation-francais-refugies-lyon", *DATA_ARGS)
    assert code == 2
    assert "unknown enterprise 'unri'; did you mean 'unir'?" in err
    code, _, err = run("rank", "--territory", "lyon", *DATA_ARGS)
    assert code == 2 and "did you mean 'metropole-lyon'?" in err


def test_bad_data_is_reported_by_every_command(tmp_path: Path) -> None:
    paths = write_dataset(tmp_path)
    paths.needs.write_text(
        paths.needs.read_text(encoding="utf-8").replace("priority: high", "priority: urgent"),
        encoding="utf-8",
    )
    for command in (
        ["rank"],
        ["explain", "langues", "fle-lyon"],
        ["gaps"],
        ["cohort", "--size", "1"],
        ["export", str(tmp_path / "x.csv")],
    ):
        code, out, err = run(
            *command, "--needs", str(paths.needs), "--enterprises", str(paths.enterprises)
        )
        assert code == 1, command
        assert "Traceback" not in out + err
        assert re.search(r"needs\.yaml:\d+:\d+: error: priority: 'urgent' is not allowed", err)
        assert not (tmp_path / "x.csv").exists()


def test_debug_shows_nothing_more_when_all_is_well() -> None:
    code, out, _ = run("--debug", "rank", "--need", "fin-de-vie-lyon", "--top", "1", *DATA_ARGS)
    assert code == 0 and "Traceback" not in out


def test_pre_commit_hook_is_declared() -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "id: implant-match-validate" in text and "entry: implant-match validate" in text


@pytest.mark.slow
def test_workers_change_nothing_in_rank_and_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from implant_match import analysis, prefetch, ranking, runtime

    monkeypatch.setattr(runtime, "available_cpus", lambda: 3)  # whatever this machine has
    monkeypatch.setattr(ranking, "PARALLEL_PAIRS", 0)  # fork even for the small bundled data
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)  # and parse its files in children
    monkeypatch.setattr(analysis, "PARALLEL_DOCUMENTS", 1)  # and analyse its texts in them
    outputs: dict[str, list[str | bytes]] = {}
    for jobs in ("1", "2", "3"):
        _, json_out, _ = run("rank", "--format", "json", "--jobs", jobs, *DATA_ARGS)
        _, table, _ = run("rank", "--top", "2", "-j", jobs, *DATA_ARGS)
        csv_path = tmp_path / f"shortlist-{jobs}.csv"
        code, _, err = run("export", str(csv_path), "--jobs", jobs, *DATA_ARGS)
        assert code == 0, err
        outputs[jobs] = [json_out, table, csv_path.read_bytes()]
    assert json.loads(outputs["1"][0])
    assert outputs["2"] == outputs["1"] and outputs["3"] == outputs["1"]


def test_a_bad_jobs_setting_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPLANT_MATCH_JOBS", "many")
    code, _, err = run("rank", *DATA_ARGS)
    assert code == 2
    assert "IMPLANT_MATCH_JOBS='many' is not a whole number" in err
    code, _, err = run("rank", "--jobs", "-2", *DATA_ARGS)
    assert code == 2 and "--jobs" in err
    # commands that only load and analyse faster with it do not trip over it
    code, out, err = run("explain", "unir", "formation-francais-refugies-lyon", *DATA_ARGS)
    assert code == 0 and "unir" in out.lower(), err


@pytest.mark.slow
@pytest.mark.parametrize("output", ["table", "json"])
def test_a_reader_that_stops_early_ends_the_run_quietly(output: str) -> None:
    """`implant-match rank | head -1`: exit 0, nothing on stderr, as plain tools do."""
    with subprocess.Popen(
        [sys.executable, "-m", "implant_match", "rank", "--top", "45", "--format", output],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "120", "NO_COLOR": "1"},
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline()  # far more than a pipe holds is still to come
        process.stdout.close()
        err = process.stderr.read()
        assert process.wait(timeout=120) == 0
    assert err == b""


needs_fork = pytest.mark.skipif(
    not __import__("implant_match.runtime").runtime.can_fork(),
    reason="children are forked on Linux only",
)


@pytest.fixture
def spied_parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Files parsed in this process; a child's parses stay in the child. Every file is
    worth a child here, and there are three processes to use."""
    from implant_match import prefetch, runtime

    parsed_here: list[Path] = []
    load = prefetch.load_document

    def spy(path: Path, name: str | None = None) -> Any:
        parsed_here.append(path)
        return load(path, name)

    monkeypatch.setattr(prefetch, "load_document", spy)
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)
    monkeypatch.setattr(runtime, "available_cpus", lambda: 3)  # whatever this machine has
    monkeypatch.setenv("IMPLANT_MATCH_JOBS", "3")
    monkeypatch.setenv("IMPLANT_MATCH_CACHE", "off")
    return parsed_here


@needs_fork
@pytest.mark.parametrize(
    ("args", "children"),
    [
        (["rank", "--format", "json", *DATA_ARGS], 2),
        (["rank", "-j2", *DATA_ARGS], 1),  # one spare process: the bigger file
        (["export", "-", "--jobs", "3", *DATA_ARGS], 2),
        (["explain", "unir", "formation-francais-refugies-lyon", *DATA_ARGS], 2),
        (["gaps", *DATA_ARGS], 2),
    ],
)
def test_the_engine_commands_parse_their_files_in_children(
    args: list[str], children: int, spied_parses: list[Path]
) -> None:
    bigger = max([NEEDS, ENTERPRISES], key=lambda p: p.stat().st_size)
    code, out, err = run(*args)
    assert code == 0 and out, err
    in_children = {NEEDS, ENTERPRISES} if children == 2 else {bigger}
    assert set(spied_parses) == {NEEDS, ENTERPRISES} - in_children
