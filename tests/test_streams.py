"""Faults of the standard streams: every one a clear message and a documented exit code.

The real CLI runs in a subprocess, as a shell would start it: a closed descriptor
(``>&-``), a full disk (``/dev/full``), a reader gone, a locale that cannot encode French.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from implant_match.cli import app

from .factories import bundled

NEEDS, ENTERPRISES = bundled().needs, bundled().enterprises
DATA = ["--needs", str(NEEDS), "--enterprises", str(ENTERPRISES)]
ONE = ["--need", "fin-de-vie-lyon", "--top", "1", "--no-stability"]
TESTS = Path(__file__).parent / "data"
INVALID = [
    "--needs",
    str(TESTS / "invalid" / "needs-several-faults.yaml"),
    "--enterprises",
    str(TESTS / "valid" / "enterprises.yaml"),
]
# every case runs the real command in a process of its own: CI runs them (-m slow)
pytestmark = pytest.mark.slow

BASE_ENV = {
    **os.environ,
    "COLUMNS": "80",
    "NO_COLOR": "1",
    "IMPLANT_MATCH_CACHE": "off",
    "IMPLANT_MATCH_LANG": "en",  # the messages below are the English ones
}
HAS_DEV_FULL = os.path.exists("/dev/full")


def shell(args: list[str], redirect: str = "", **env: str) -> subprocess.CompletedProcess[bytes]:
    """``implant-match ARGS REDIRECT`` run by bash, so ``>&-`` closes a real descriptor."""
    command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "implant_match", *args])
    return subprocess.run(
        ["bash", "-c", f"exec {command} {redirect}"],
        capture_output=True,
        env={**BASE_ENV, **env},
        timeout=120,
        check=False,
    )


def to_gone_reader(args: list[str], **env: str) -> subprocess.CompletedProcess[bytes]:
    """Run with standard output a pipe whose reader has already left: every write fails."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "implant_match", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env={**BASE_ENV, **env},
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)


# Every fault of the streams: the exit code docs/exit-codes.md gives it, and what is said
CLOSED = "error: cannot write the output: standard output is closed\n"
FULL = "error: cannot write the output: No space left on device (disk full)\n"
SCENARIOS: dict[str, tuple[list[str], str, dict[str, str], int, str | None]] = {
    "closed stdout, --version": (["--version"], ">&-", {}, 1, CLOSED),
    "closed stdout, rank": (["rank", *DATA, *ONE], ">&-", {}, 1, CLOSED),
    "closed stderr, usage error": (["rank", "--bogus"], "2>&-", {}, 2, ""),
    "closed stderr, invalid data": (["validate", *INVALID], "2>&- >/dev/null", {}, 1, ""),
    "closed stdin": (["rank", *DATA, *ONE], "<&- >/dev/null", {}, 0, ""),
    "COLUMNS=0": (["rank", *DATA, *ONE], "", {"COLUMNS": "0"}, 0, ""),
    "TERM=dumb": (["rank", *DATA, *ONE], "", {"TERM": "dumb"}, 0, ""),
    "C locale": (["rank", *DATA, *ONE], "", {"LC_ALL": "C", "PYTHONUTF8": "0"}, 0, ""),
    "latin-1": (
        ["explain", "unir", "fin-de-vie-lyon", *DATA],
        "",
        {"PYTHONIOENCODING": "latin-1"},
        0,
        "",
    ),
}
if HAS_DEV_FULL:
    SCENARIOS |= {
        "full disk, rank": (["rank", *DATA, *ONE], "> /dev/full", {}, 1, FULL),
        "full disk, export -": (["export", "-", *DATA, *ONE], "> /dev/full", {}, 1, FULL),
        "full disk, --version": (["--version"], "> /dev/full", {}, 1, FULL),
    }


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_fault_of_the_streams_prints_a_traceback(name: str) -> None:
    args, redirect, env, code, said = SCENARIOS[name]
    done = shell(args, redirect, **env)
    err = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "internal error" not in err, err
    assert done.returncode == code, (done.returncode, err)
    assert err == said  # "wrote N rows" never follows a failed export
    if name == "C locale":  # human text degraded, not refused: what ASCII lacks is a '?'
        assert b"M?tropole de Lyon" in done.stdout


@pytest.mark.parametrize("output", ["text", "json", "github"])
def test_a_reader_gone_never_hides_invalid_data(output: str) -> None:
    """`implant-match validate | tee log` in CI must still fail on invalid data."""
    done = to_gone_reader(["validate", *INVALID, "--format", output])
    assert done.returncode == 1, done.stderr
    assert done.stderr == b""


@pytest.mark.parametrize("args", [["rank", *DATA, *ONE], ["--version"], ["rank", "--help"]])
def test_a_reader_gone_after_a_successful_run_ends_it_quietly(args: list[str]) -> None:
    done = to_gone_reader(args)
    assert (done.returncode, done.stderr) == (0, b"")


def test_export_to_a_reader_that_leaves_does_not_claim_every_row() -> None:
    """Once the reader has gone, no "wrote N rows": they were not all written."""
    with subprocess.Popen(
        # 30 candidates a need: some 280 KB of CSV, far more than a pipe holds (64 KiB)
        [sys.executable, "-m", "implant_match", "export", "-", "--top", "30", *DATA],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**BASE_ENV, "IMPLANT_MATCH_CACHE": "off"},
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.read(1000)
        process.stdout.close()
        err = process.stderr.read()
        assert process.wait(timeout=120) == 0
    assert b"wrote" not in err, err


@pytest.mark.parametrize(
    "env", [{"LC_ALL": "C", "PYTHONUTF8": "0"}, {"PYTHONIOENCODING": "latin-1"}]
)
def test_data_is_utf8_whatever_the_locale(env: dict[str, str]) -> None:
    done = shell(["rank", *DATA, *ONE, "--format", "json"], **env)
    assert done.returncode == 0, done.stderr
    assert "Personnes âgées".encode() in done.stdout
    record = json.loads(done.stdout.decode("utf-8"))[0]
    assert (record["need_title"], record["enterprise_id"]) == (
        "Mieux accompagner la fin de vie",
        "petits-freres-des-pauvres",
    )
    assert "Frères".encode() in shell(["export", "-", *DATA, *ONE], **env).stdout


@pytest.mark.parametrize("columns", ["0", "1", "-3", "abc", "", "99999999"])
@pytest.mark.parametrize("command", ["rank", "validate"])
def test_any_columns_setting_still_prints(columns: str, command: str) -> None:
    args = ["rank", *DATA, *ONE] if command == "rank" else ["validate", *INVALID]
    result = CliRunner().invoke(app, args, env={"COLUMNS": columns, "NO_COLOR": "1"})
    assert result.exit_code == (0 if command == "rank" else 1), result.output
    expected = "fin-de-vie-lyon" if command == "rank" else "4 errors, 0 warnings in 1 file"
    assert expected in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 1000
