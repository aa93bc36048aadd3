"""The loaded, validated data every command works on, and where it comes from.

``load_dataset`` runs load -> validate and either returns a :class:`Dataset` (warnings
attached) or raises :class:`DataError` carrying every problem of both files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from implant_match.errors import DataError, Problem
from implant_match.loading import (  # where the files are is the load stage's business
    ENTERPRISES_FILE,
    NEEDS_FILE,
    DataPaths,
    Document,
    SourceMap,
    bundled_data_dir,
    load_document,
    reload_whole,
    resolve_paths,
)
from implant_match.models import Enterprise, EnterprisesFile, Need, NeedsFile, Territory, Theme
from implant_match.runtime import paused_gc
from implant_match.validation import Validated, validate_documents

__all__ = [  # paths are re-exported: load_dataset takes them
    "ENTERPRISES_FILE",
    "NEEDS_FILE",
    "DataPaths",
    "Dataset",
    "Inspection",
    "bundled_data_dir",
    "inspect_files",
    "load_dataset",
    "resolve_paths",
]


@dataclass
class Dataset:
    """Themes, territories, needs and enterprises, sorted by id, ready to score."""

    needs_file: NeedsFile
    enterprises_file: EnterprisesFile
    needs_source: SourceMap
    enterprises_source: SourceMap
    warnings: list[Problem] = field(default_factory=list)
    # digests of the bytes of the needs and enterprises files as parsed (Document.digest)
    digests: tuple[str | None, str | None] = (None, None)

    @cached_property
    def themes(self) -> dict[str, Theme]:
        return {t.id: t for t in sorted(self.needs_file.themes, key=lambda t: t.id)}

    @cached_property
    def territories(self) -> dict[str, Territory]:
        return {t.id: t for t in sorted(self.needs_file.territories, key=lambda t: t.id)}

    @cached_property
    def needs(self) -> tuple[Need, ...]:
        return tuple(sorted(self.needs_file.needs, key=lambda n: n.id))

    @cached_property
    def enterprises(self) -> tuple[Enterprise, ...]:
        return tuple(sorted(self.enterprises_file.enterprises, key=lambda e: e.id))

    @cached_property
    def need_by_id(self) -> dict[str, Need]:
        return {n.id: n for n in self.needs}

    @cached_property
    def enterprise_by_id(self) -> dict[str, Enterprise]:
        return {e.id: e for e in self.enterprises}


@dataclass
class Inspection:
    """Everything ``validate`` reports: the usable dataset (if any) and all problems."""

    dataset: Dataset | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]


def inspect_files(paths: DataPaths, warnings: bool = True) -> Inspection:
    """Load and validate both files, gathering every problem even when one file is unreadable.

    ``warnings=False`` skips the checks that can only warn (near-duplicate names...).
    """
    documents: list[Document | None] = []
    problems: list[Problem] = []
    files = [(paths.needs, paths.needs_display), (paths.enterprises, paths.enterprises_display)]
    with paused_gc():  # many small objects, no cycles
        for path, display in files:
            try:
                documents.append(load_document(path, display))
            except DataError as exc:
                problems.extend(exc.problems)
                documents.append(None)
        needs_doc, enterprises_doc = documents
        validated = validate_documents(needs_doc, enterprises_doc, warnings)
        if validated.problems and any(d and not d.positioned for d in documents):
            # data parsed in parts knows no lines: parsed again whole, to point at them
            needs_doc, enterprises_doc = (
                reload_whole(d, path, display) if d else None
                for d, (path, display) in zip(documents, files, strict=True)
            )
            validated = validate_documents(needs_doc, enterprises_doc, warnings)
        problems.extend(validated.problems)
        return Inspection(_assemble(validated, needs_doc, enterprises_doc, problems), problems)


def _assemble(
    validated: Validated,
    needs_doc: Document | None,
    enterprises_doc: Document | None,
    problems: list[Problem],
) -> Dataset | None:
    if any(p.is_error for p in problems) or needs_doc is None or enterprises_doc is None:
        return None
    assert validated.needs_file is not None and validated.enterprises_file is not None
    return Dataset(
        validated.needs_file,
        validated.enterprises_file,
        needs_doc.source,
        enterprises_doc.source,
        [p for p in problems if not p.is_error],
        (needs_doc.digest, enterprises_doc.digest),
    )


def load_dataset(paths: DataPaths | None = None, warnings: bool = True) -> Dataset:
    """Load and validate the data, or raise :class:`DataError` with every problem found.

    ``warnings=False`` skips the checks that can only warn, for callers that do not show
    them (``Dataset.warnings`` is then empty).
    """
    inspection = inspect_files(paths or resolve_paths(), warnings)
    if inspection.dataset is None:
        raise DataError(inspection.problems)
    # valid data needs no positions any more: on a national directory they weigh more than
    # half as much as the data itself
    for source in (inspection.dataset.needs_source, inspection.dataset.enterprises_source):
        source.drop_positions()
    return inspection.dataset
