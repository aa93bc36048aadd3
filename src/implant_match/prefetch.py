"""Parsing a big data file in a forked child while this process imports and reads the rest.

A cold run imports its heavy modules (numpy, pydantic, scipy) and reads its lexicon in
about the time libyaml takes on a few megabytes of data: started first, the parse of a big
file overlaps them. This is the one piece of speed machinery of the load stage, and it
stays behind one small object: the composition root (:mod:`implant_match.session`) starts
a :class:`Prefetch` and hands its :meth:`Prefetch.load` to the loader as the function that
reads a file; nothing else knows a child exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from implant_match.loading import DataPaths, Document, load_document
from implant_match.runtime import ForkedCall

MIN_BYTES = 1 << 20  # a smaller file parses in less time than a fork saves
MAX_BYTES = 32 << 20  # a bigger one would be held by two processes at once


class Prefetch:
    """Files being parsed in forked children, taken by :meth:`load` when their turn comes."""

    def __init__(self) -> None:
        self._calls: dict[tuple[Path, str], ForkedCall[Document]] = {}

    @classmethod
    def start(cls, paths: DataPaths, children: int) -> Prefetch:
        """Start parsing the data files worth it, biggest first, in at most ``children``
        children (none where forking is unsafe)."""
        prefetch = cls()
        files = sorted(
            [(paths.needs, paths.needs_display), (paths.enterprises, paths.enterprises_display)],
            key=lambda item: -_size_of(item[0]),
        )
        for path, display in files:
            if len(prefetch._calls) >= children:
                break
            if MIN_BYTES <= _size_of(path) <= MAX_BYTES:
                call = ForkedCall.start(partial(load_document, path, display))
                if call is not None:
                    prefetch._calls[(path, display)] = call
        return prefetch

    @property
    def active(self) -> bool:
        """Whether any file is still being parsed in a child."""
        return bool(self._calls)

    def load(self, path: Path, display: str | None = None) -> Document:
        """What :func:`~implant_match.loading.load_document` returns: the child's document
        when one parsed this file, else the file parsed here (also when the child found a
        problem, so that problems are raised in this process exactly as without a child)."""
        name = display or str(path)
        call = self._calls.pop((path, name), None)
        if call is not None:
            delivered, document = call.result()
            if delivered and document is not None:
                return document
        return load_document(path, name)

    def cancel(self) -> None:
        """Stop the children whose files will not be loaded (found in the cache, an error)."""
        while self._calls:
            _, call = self._calls.popitem()
            call.cancel()


@contextmanager
def prefetching(paths: DataPaths, children: int) -> Iterator[Prefetch]:
    """A :class:`Prefetch` for the block, whose unused children are stopped at its end."""
    prefetch = Prefetch.start(paths, children)
    try:
        yield prefetch
    finally:
        prefetch.cancel()


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # missing or unreadable: said when the file is loaded here
        return -1
