"""Files the tool writes are written whole or not at all, through links, and a failure to
write or a file it cannot read is a located message with exit 1: never a traceback, never
a link turned into a file, never half a set of starter files. (Cases found by a fault
probe of every command.)"""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from implant_match import files, starter
from implant_match.cli import app
from implant_match.errors import ExportError

from .factories import write_dataset

ENV = {
    "COLUMNS": "100",
    "NO_COLOR": "1",
    "TERM": "dumb",
    "IMPLANT_MATCH_CACHE": "off",
    "IMPLANT_MATCH_LANG": "en",
}
DECISIONS = "schema_version: 1\ndecisions: []\n"


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, list(args), env={**ENV, **(env or {})})


def decide(data: Any, decisions: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    return run(
        "decide",
        "langues",
        "fle-lyon",
        "--status",
        "retenue",
        "--needs",
        str(data.needs),
        "--enterprises",
        str(data.enterprises),
        "--decisions",
        str(decisions),
        *extra,
        env=env,
    )


# -- the writer ---------------------------------------------------------------------------


def test_a_failing_disk_keeps_the_previous_file_and_says_so(tmp_path: Path) -> None:
    target = tmp_path / "out.html"
    target.write_text("before", encoding="utf-8")
    with pytest.raises(ExportError) as caught, files.atomic_destination(target) as stream:
        stream.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert "No space left on device" in str(caught.value)
    assert target.read_text(encoding="utf-8") == "before"
    assert os.listdir(tmp_path) == ["out.html"]  # no temporary file left


def test_a_link_is_written_through(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text("old", encoding="utf-8")
    (tmp_path / "link.yaml").symlink_to("real.yaml")
    files.write_text(tmp_path / "link.yaml", "new")
    assert (tmp_path / "link.yaml").is_symlink()
    assert (tmp_path / "real.yaml").read_text(encoding="utf-8") == "new"


@pytest.mark.parametrize("name", ["", ".", "folder"])
def test_no_file_name_or_a_folder_is_refused_before_any_work(tmp_path: Path, name: str) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(ExportError):
        files.check_destination(tmp_path / name if name else Path(name))


def test_export_to_a_device_is_refused_whatever_its_name() -> None:
    done = run("export", "/dev/full", "--no-stability", "--no-semantic")
    assert done.exit_code == 1, done.output
    assert "not a regular file" in done.output


# -- decide ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # a date of no calendar: validate's message, not the round-trip loader's crash
        (
            "schema_version: 1\ndecisions:\n  - enterprise: langues\n    status: selected\n"
            "    date: 2024-13-01\n",
            5,
        ),
        ("schema_version: 1\nschema_version: 1\ndecisions: []\n", 2),  # a repeated key
        ("schema_version: 1\ndecisions:\n\t- enterprise: langues\n", 3),  # a tab
    ],
)
def test_decide_reports_a_broken_file_at_its_line(tmp_path: Path, text: str, line: int) -> None:
    data = write_dataset(tmp_path / "data")
    decisions = tmp_path / "d.yaml"
    decisions.write_text(text, encoding="utf-8")
    done = decide(data, decisions)
    assert done.exit_code == 1, done.output
    assert f"d.yaml:{line}:" in done.output
    assert "internal" not in done.output and "Traceback" not in done.output
    assert decisions.read_text(encoding="utf-8") == text  # left as it was


def test_decide_refuses_a_device_or_a_huge_file(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data")
    done = decide(data, Path("/dev/zero"), env={"IMPLANT_MATCH_MAX_BYTES": "4096"})
    assert done.exit_code == 1, done.output
    assert "larger than the 4 KiB limit" in done.output


def test_decide_reports_a_utf16_file(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data")
    decisions = tmp_path / "d.yaml"
    decisions.write_bytes(DECISIONS.encode("utf-16"))
    done = decide(data, decisions)
    assert done.exit_code == 1 and "UTF-16" in done.output, done.output


def test_decide_writes_through_a_link(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data")
    (tmp_path / "real.yaml").write_text(DECISIONS, encoding="utf-8")
    (tmp_path / "link.yaml").symlink_to("real.yaml")
    done = decide(data, tmp_path / "link.yaml")
    assert done.exit_code == 0, done.output
    assert (tmp_path / "link.yaml").is_symlink()
    assert "langues" in (tmp_path / "real.yaml").read_text(encoding="utf-8")


# -- reading ----------------------------------------------------------------------------------


def test_a_symbolic_link_loop_is_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to("b.yaml")
    (tmp_path / "b.yaml").symlink_to("a.yaml")
    done = run("validate", "--needs", str(tmp_path / "a.yaml"))
    assert done.exit_code == 1, done.output
    assert "a.yaml" in done.output and "internal" not in done.output


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="chmod does not stop root"
)
def test_an_unreadable_decisions_file_is_a_data_error_not_a_usage_error(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data")
    decisions = tmp_path / "d.yaml"
    decisions.write_text(DECISIONS, encoding="utf-8")
    decisions.chmod(0)
    done = run(
        "rank", "--needs", str(data.needs), "--enterprises", str(data.enterprises),
        "--decisions", str(decisions), "--no-semantic",
    )  # fmt: skip
    assert done.exit_code == 1, done.output


# -- init ---------------------------------------------------------------------------------------


def test_init_writes_all_its_files_or_none(tmp_path: Path, monkeypatch: Any) -> None:
    folder = tmp_path / "new" / "data"
    written: list[Path] = []
    real = files.write_text

    def full_disk(path: Path, text: str) -> None:
        if written:  # the second file meets a full disk
            raise ExportError(
                "{path}: cannot write ({reason})", params={"path": path, "reason": "full"}
            )
        real(path, text)
        written.append(path)

    monkeypatch.setattr(files, "write_text", full_disk)
    with pytest.raises(ExportError):
        starter.write_starter(folder)
    assert written and not written[0].exists()
    assert not (tmp_path / "new").exists()  # the folders it made are gone too
    monkeypatch.setattr(files, "write_text", real)
    assert len(starter.write_starter(folder)) == len(starter.starter_files(folder))


# -- a file size limit, for real ----------------------------------------------------------------


def _small_files() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))


@pytest.mark.slow
@pytest.mark.parametrize("output", ["dossier.html", "shortlist.xlsx"])
def test_a_file_size_limit_is_a_clean_error(tmp_path: Path, output: str) -> None:
    command = "report" if output.endswith(".html") else "export"
    done = subprocess.run(
        [sys.executable, "-m", "implant_match", command, str(tmp_path / output), "--no-semantic"],
        capture_output=True,
        text=True,
        env={**os.environ, **ENV},
        preexec_fn=_small_files,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert output in done.stderr
    assert os.listdir(tmp_path) == []
