"""The whole-file prefetch: a document parsed in a child is the document parsed here."""

from __future__ import annotations

from pathlib import Path

import pytest

from implant_match import loading, prefetch
from implant_match.dataset import DataPaths, load_dataset
from implant_match.errors import DataError
from implant_match.runtime import can_fork

from .factories import DATA

VALID_NEEDS = DATA / "needs.yaml"
VALID_ENTERPRISES = DATA / "enterprises.yaml"

needs_fork = pytest.mark.skipif(not can_fork(), reason="children are forked on Linux only")


@pytest.fixture
def any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)


@needs_fork
@pytest.mark.usefixtures("any_size")
def test_a_prefetched_file_is_the_file_parsed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = DataPaths(VALID_NEEDS, VALID_ENTERPRISES)
    with prefetch.prefetching(paths, children=1) as started:
        assert started.active
        parsed_here: list[Path] = []  # what the child appends stays in the child
        load = prefetch.load_document

        def spy(path: Path, name: str | None = None) -> loading.Document:
            parsed_here.append(path)
            return load(path, name)

        monkeypatch.setattr(prefetch, "load_document", spy)
        bigger = max([VALID_NEEDS, VALID_ENTERPRISES], key=lambda p: p.stat().st_size)
        display = paths.enterprises_display if bigger == VALID_ENTERPRISES else paths.needs_display
        fetched = started.load(bigger, display)
        assert not parsed_here and not started.active  # taken from the child
    here = loading.load_document(bigger, display)
    assert fetched.data == here.data
    key = "enterprises" if bigger == VALID_ENTERPRISES else "needs"
    for i in range(len(here.data[key])):
        for loc in [(key, i), (key, i, "id"), (key, i, "themes")]:
            assert fetched.source.locate(loc) == here.source.locate(loc)
            assert fetched.source.locate(loc, key=True) == here.source.locate(loc, key=True)


@needs_fork
@pytest.mark.usefixtures("any_size")
def test_a_prefetched_file_with_problems_reports_them_as_without(tmp_path: Path) -> None:
    bad = tmp_path / "enterprises.yaml"
    bad.write_text("enterprises:\n  - id: a\n    id: b\n  - [unclosed\n", encoding="utf-8")
    with pytest.raises(DataError) as direct:
        loading.load_document(bad, "enterprises.yaml")
    paths = DataPaths(VALID_NEEDS, bad)
    with prefetch.prefetching(paths, children=2) as started:
        assert started.active
        with pytest.raises(DataError) as fetched:
            started.load(bad, "enterprises.yaml")
    assert fetched.value.problems == direct.value.problems
    assert [p.line for p in fetched.value.problems] == [3, 5]


def test_small_missing_or_huge_files_are_parsed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    assert VALID_ENTERPRISES.stat().st_size < prefetch.MIN_BYTES
    paths = DataPaths(VALID_NEEDS, VALID_ENTERPRISES)
    assert not prefetch.Prefetch.start(paths, children=2).active
    missing = DataPaths(DATA / "no-such-file.yaml", DATA / "no-such-file-either.yaml")
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)
    assert not prefetch.Prefetch.start(missing, children=2).active
    monkeypatch.setattr(prefetch, "MAX_BYTES", 10)
    assert not prefetch.Prefetch.start(paths, children=2).active


@needs_fork
@pytest.mark.usefixtures("any_size")
def test_at_most_the_children_allowed_are_started_biggest_first() -> None:
    paths = DataPaths(VALID_NEEDS, VALID_ENTERPRISES)
    bigger = max([VALID_NEEDS, VALID_ENTERPRISES], key=lambda p: p.stat().st_size)
    assert not prefetch.Prefetch.start(paths, children=0).active
    with prefetch.prefetching(paths, children=1) as started:
        assert [path for path, _ in started._calls] == [bigger]
    assert not started.active  # stopped at the end of the block
    with prefetch.prefetching(paths, children=2) as both:
        assert len(both._calls) == 2
        data = load_dataset(paths.needs, paths.enterprises, read=both.load)
        assert not both.active  # both taken
    assert data.needs and data.enterprises
