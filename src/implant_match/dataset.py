"""The loaded, validated data every command works on, and where it comes from.

:func:`load_dataset` runs load -> validate over the two data files (and a project
lexicon) and either returns a :class:`Dataset` or raises :class:`DataError` carrying
every problem found; :meth:`Dataset.from_records` does the same for data held in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from implant_match.decisions import (
    DECISIONS_FILE,
    Decisions,
    decisions_file,
    validate_decisions,
)
from implant_match.errors import DataError, Problem
from implant_match.lexicon import Lexicon, lexicon_from_document, load_lexicon
from implant_match.loading import (  # where the files are is the load stage's business
    ENTERPRISES_FILE,
    NEEDS_FILE,
    DataPaths,
    Document,
    SourceMap,
    bundled_data_dir,
    display_path,
    load_document,
    resolve_paths,
)
from implant_match.models import Enterprise, EnterprisesFile, Need, NeedsFile, Territory, Theme
from implant_match.runtime import paused_gc
from implant_match.taxonomy import merge_themes
from implant_match.territories import ancestors
from implant_match.validation import Validated, validate_documents, validate_schema

__all__ = [  # paths are re-exported: load_dataset takes them
    "DECISIONS_FILE",
    "ENTERPRISES_FILE",
    "NEEDS_FILE",
    "DataPaths",
    "Dataset",
    "Inspection",
    "Reader",
    "bundled_data_dir",
    "decisions_file",
    "inspect_files",
    "lexicon_file",
    "load_dataset",
    "project_themes",
    "resolve_paths",
]

LEXICON_FILE = "lexicon.yaml"

Reader = Callable[[Path, str], Document]
"""How a data file becomes a document: :func:`~implant_match.loading.load_document`, or
a :class:`~implant_match.prefetch.Prefetch`'s ``load`` that may take it from a child."""


@dataclass
class Dataset:
    """Themes, territories, needs and enterprises, sorted by id, with the lexicon in force."""

    needs_file: NeedsFile
    enterprises_file: EnterprisesFile
    needs_source: SourceMap
    enterprises_source: SourceMap
    lexicon: Lexicon = field(default_factory=load_lexicon)
    warnings: list[Problem] = field(default_factory=list)
    # digests of the bytes of the needs and enterprises files as parsed (Document.digest)
    digests: tuple[str | None, str | None] = (None, None)
    # what the committee decided (decisions.yaml): optional, like the project lexicon
    decisions: Decisions = field(default_factory=Decisions)

    @classmethod
    def from_records(
        cls,
        needs: Mapping[str, Any],
        enterprises: Mapping[str, Any],
        lexicon: Mapping[str, Any] | None = None,
        *,
        warnings: bool = True,
        decisions: Mapping[str, Any] | None = None,
    ) -> Dataset:
        """Data held in memory, validated exactly as files are.

        ``needs`` and ``enterprises`` have the shape of the YAML files (``{"schema_version":
        1, "themes": [...], ...}``); ``lexicon`` that of a project lexicon, ``decisions``
        that of a decisions file. Problems are located by the path of the value
        (``needs[3].themes[1]``) instead of a line. Raises :class:`DataError` with every
        problem found.
        """
        documents: list[Document | None] = [
            Document(_plain(data), SourceMap(name, by_path=True))
            for name, data in (("needs", needs), ("enterprises", enterprises))
        ]
        lexicon_doc = (
            None
            if lexicon is None
            else Document(_plain(lexicon), SourceMap("lexicon", by_path=True))
        )
        decisions_doc = (
            None
            if decisions is None
            else Document(_plain(decisions), SourceMap("decisions", by_path=True))
        )
        inspection = _inspect(documents, [], lexicon_doc, warnings, decisions_doc)
        return _usable(inspection)

    @cached_property
    def themes(self) -> dict[str, Theme]:
        """The shipped taxonomy with the needs file's themes (which win by id)."""
        merged = merge_themes(self.needs_file.themes)
        return {t.id: t for t in sorted(merged, key=lambda t: t.id)}

    @cached_property
    def themes_in_use(self) -> frozenset[str]:
        """Themes of a need, an enterprise, a local actor or a priority, and their
        ancestors: the part of the taxonomy this data speaks of."""
        used = {t for n in self.needs_file.needs for t in n.themes}
        used.update(t for e in self.enterprises_file.enterprises for t in e.themes)
        for territory in self.needs_file.territories:
            used.update(territory.priority_themes)
            used.update(t for a in territory.local_actors for t in a.themes)
        themes = self.themes
        for theme_id in list(used):
            parent = themes[theme_id].parent if theme_id in themes else None
            while parent is not None and parent in themes and parent not in used:
                used.add(parent)
                parent = themes[parent].parent
        return frozenset(used)

    @cached_property
    def territory_ancestors(self) -> dict[str, tuple[str, ...]]:
        """Each territory's chain of parents, nearest first (a métropole: its région)."""
        return ancestors({t.id: t.parent for t in self.territories.values()})

    def lies_in(self, territory_id: str, area: str) -> bool:
        """Whether ``territory_id`` is ``area`` or lies inside it (``--territory`` filters)."""
        return territory_id == area or area in self.territory_ancestors.get(territory_id, ())

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


def lexicon_file(paths: DataPaths, explicit: Path | None = None) -> Path | None:
    """The project lexicon: ``explicit``, else ``lexicon.yaml`` beside the needs file."""
    if explicit is not None:
        return explicit
    beside = paths.needs.parent / LEXICON_FILE
    return beside if beside.is_file() else None


def inspect_files(
    paths: DataPaths,
    lexicon: Path | None = None,
    warnings: bool = True,
    read: Reader = load_document,
    decisions: Path | None = None,
) -> Inspection:
    """Load and validate both files, the project lexicon ``lexicon`` (None: the shipped
    one alone) and the decisions file ``decisions`` (None: no decision), gathering every
    problem even when a file is unreadable.

    ``warnings=False`` skips the checks that can only warn (near-duplicate names...).
    """
    documents: list[Document | None] = []
    problems: list[Problem] = []
    with paused_gc():  # many small objects, no cycles
        for path, display in (
            (paths.needs, paths.needs_display),
            (paths.enterprises, paths.enterprises_display),
            *((p, display_path(p)) for p in paths.more_enterprises),
        ):
            try:
                documents.append(read(path, display))
            except DataError as exc:
                problems.extend(exc.problems)
                documents.append(None)
        lexicon_doc: Document | None = None
        if lexicon is not None:
            try:
                lexicon_doc = load_document(lexicon)
            except DataError as exc:
                problems.extend(exc.problems)
                lexicon_doc = _UNREADABLE
        decisions_doc: Document | None = None
        if decisions is not None:
            try:
                decisions_doc = load_document(decisions)
            except DataError as exc:
                problems.extend(exc.problems)
                decisions_doc = _UNREADABLE
        return _inspect(documents, problems, lexicon_doc, warnings, decisions_doc)


# a project lexicon that could not be read: no dataset, but its problem is already said
_UNREADABLE = Document(None, SourceMap(""))


def _inspect(
    documents: list[Document | None],
    problems: list[Problem],
    lexicon_doc: Document | None,
    warnings: bool,
    decisions_doc: Document | None = None,
) -> Inspection:
    needs_doc, enterprises_doc, *more = documents
    validated = validate_documents(needs_doc, enterprises_doc, warnings, more)
    problems.extend(validated.problems)
    lexicon: Lexicon | None = None
    if lexicon_doc is None:
        lexicon = load_lexicon()
    elif lexicon_doc is not _UNREADABLE:
        try:
            lexicon = lexicon_from_document(lexicon_doc)
        except DataError as exc:
            problems.extend(exc.problems)
        else:
            problems.extend(lexicon.warnings)
    decisions = _decisions(validated, decisions_doc, problems)
    if warnings and validated.needs_file is not None and validated.enterprises_file is not None:
        from implant_match.selection import presence_warnings

        assert enterprises_doc is not None
        problems.extend(
            presence_warnings(
                validated.needs_file, validated.enterprises_file, enterprises_doc.source
            )
        )
    dataset = _assemble(validated, needs_doc, enterprises_doc, lexicon, problems)
    if dataset is not None and decisions is not None:
        dataset.decisions = decisions
    elif dataset is not None and decisions_doc is not None:
        dataset = None  # its problems are errors: already said
    return Inspection(dataset, problems)


def _decisions(
    validated: Validated, document: Document | None, problems: list[Problem]
) -> Decisions | None:
    """The decisions of ``document``, checked against the ids the data files define
    (None when there is no such file or it has errors, which join ``problems``)."""
    if document is None or document is _UNREADABLE:
        return None
    needs_file, enterprises_file = validated.needs_file, validated.enterprises_file
    found, more = validate_decisions(
        document,
        {n.id: n.territory for n in (needs_file.needs if needs_file else ())},
        [e.id for e in (enterprises_file.enterprises if enterprises_file else ())],
        [t.id for t in (needs_file.territories if needs_file else ())],
    )
    problems.extend(more)
    return found


def _assemble(
    validated: Validated,
    needs_doc: Document | None,
    enterprises_doc: Document | None,
    lexicon: Lexicon | None,
    problems: list[Problem],
) -> Dataset | None:
    if any(p.is_error for p in problems) or needs_doc is None or enterprises_doc is None:
        return None
    if lexicon is None:
        return None
    assert validated.needs_file is not None and validated.enterprises_file is not None
    return Dataset(
        validated.needs_file,
        validated.enterprises_file,
        needs_doc.source,
        enterprises_doc.source,
        lexicon,
        [p for p in problems if not p.is_error],
        (needs_doc.digest, enterprises_doc.digest),
    )


def read_decisions(dataset: Dataset, path: Path | None) -> Decisions:
    """The decisions of the file at ``path`` (None: no decision) for this dataset, or
    :class:`DataError` with every problem of that file."""
    if path is None:
        return Decisions()
    return check_decisions(dataset, load_document(path))


def check_decisions(dataset: Dataset, document: Document) -> Decisions:
    """The decisions of a loaded decisions file, checked against this dataset's ids, or
    :class:`DataError` with every problem found."""
    found, problems = validate_decisions(
        document,
        {n.id: n.territory for n in dataset.needs},
        dataset.enterprise_by_id,
        dataset.territories,
    )
    if found is None:
        raise DataError(problems)
    return found


def _usable(inspection: Inspection) -> Dataset:
    if inspection.dataset is None:
        raise DataError(inspection.problems)
    return inspection.dataset


def _plain(data: Mapping[str, Any]) -> Any:
    """Records as the loader would give them: dicts and lists (tuples become lists)."""
    if isinstance(data, Mapping):
        return {str(k): _plain(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_plain(v) for v in data]
    return data


def load_dataset(
    needs: str | Path | None = None,
    enterprises: str | Path | Sequence[str | Path] | None = None,
    lexicon: str | Path | None = None,
    *,
    warnings: bool = True,
    read: Reader = load_document,
    decisions: str | Path | Literal[False] | None = None,
) -> Dataset:
    """Load and validate the data files, or raise :class:`DataError` with every problem.

    ``needs`` and ``enterprises`` default to ``./data/needs.yaml`` and
    ``./data/enterprises.yaml``, else the bundled example; ``enterprises`` may list several
    files or folders (their ``*.yaml`` files), whose ids must be unique; ``lexicon`` to a
    ``lexicon.yaml`` beside the needs file, if there is one; ``decisions`` to a
    ``decisions.yaml`` beside the needs file, if there is one (``False``: none).
    ``warnings=False`` skips the checks that can only warn, for callers that do not show
    them.
    """
    candidates = (
        None
        if enterprises is None
        else [Path(enterprises)]
        if isinstance(enterprises, (str, Path))
        else [Path(p) for p in enterprises]
    )
    paths = resolve_paths(Path(needs) if needs is not None else None, candidates)
    project_lexicon = lexicon_file(paths, Path(lexicon) if lexicon is not None else None)
    decided = (
        None
        if decisions is False
        else decisions_file(paths.needs, Path(decisions) if decisions is not None else None)
    )
    dataset = _usable(inspect_files(paths, project_lexicon, warnings, read, decided))
    # valid data needs no positions any more: on a national directory they weigh more than
    # half as much as the data itself
    for source in (dataset.needs_source, dataset.enterprises_source):
        source.drop_positions()
    return dataset


def project_themes(needs: Path) -> tuple[Theme, ...]:
    """The themes in force for a needs file: the shipped ones merged with its own
    (:class:`DataError` when the file cannot be read or its themes are invalid)."""
    document = load_document(needs, display_path(needs))
    needs_file, problems = validate_schema(document, NeedsFile)
    theme_problems = [p for p in problems if p.is_error]
    if needs_file is None or theme_problems:
        raise DataError(theme_problems)
    return merge_themes(needs_file.themes)
