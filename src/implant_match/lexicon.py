"""The field's language: acronyms and synonym groups of French social and solidarity economy.

A lexicon group names one thing several ways ("FLE", "français langue étrangère", "cours
de français pour étrangers"). The engine folds every text through the groups, so that an
acronym on one side and the spelled-out words on the other count as the same evidence.
The shipped lexicon lives in ``implant_match/lexicon.yaml``; a project extends or
overrides it with an optional ``data/lexicon.yaml`` of the same format.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, ValidationError

from implant_match.errors import DataError, Problem
from implant_match.loading import Document, SourceMap, load_document
from implant_match.messages import N_
from implant_match.models import Id
from implant_match.text import fold

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class LexiconGroup(BaseModel):
    """Words that name the same thing, with the canonical form shown in explanations."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Id
    canonical: Phrase = Field(description="Canonical French form, shown in explanations.")
    domain: Phrase = Field(description="Field of social action the group belongs to.")
    acronyms: tuple[Phrase, ...] = Field(default=(), description="Acronyms, in capitals.")
    terms: tuple[Phrase, ...] = Field(default=(), description="Synonyms and spelled-out forms.")
    case_sensitive: tuple[Phrase, ...] = Field(
        default=(),
        description="Acronyms that are ordinary words in lowercase: matched in capitals only.",
    )

    def forms(self) -> tuple[str, ...]:
        """Every way of writing the group that is matched case-insensitively."""
        strict = set(self.case_sensitive)
        return tuple(
            dict.fromkeys(
                [self.canonical, *self.terms, *(a for a in self.acronyms if a not in strict)]
            )
        )


class LexiconFile(BaseModel):
    """Contents of a lexicon file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: StrictInt = Field(description="Version of the lexicon format; must be 1.")
    groups: tuple[LexiconGroup, ...] = Field(default=(), description="Synonym groups.")


@dataclass(frozen=True)
class Lexicon:
    """The groups in force: the shipped ones, extended or overridden by the project's."""

    groups: tuple[LexiconGroup, ...]
    warnings: tuple[Problem, ...] = field(default=())
    # digest of the project file's bytes as parsed (Document.digest), None without one
    digest: str | None = None

    def search(self, word: str | None = None) -> list[LexiconGroup]:
        """Groups with a form, acronym, id or domain containing ``word`` (accents ignored)."""
        if not word:
            return list(self.groups)
        needle = fold(word).strip()
        return [
            g
            for g in self.groups
            if any(
                needle in fold(text)
                for text in (g.id, g.domain, g.canonical, *g.terms, *g.acronyms, *g.case_sensitive)
            )
        ]


def shipped_lexicon_path() -> Path:
    return Path(str(resources.files("implant_match"))) / "lexicon.yaml"


def parse_lexicon(document: Document) -> tuple[LexiconFile | None, list[Problem]]:
    """Validate a loaded lexicon document, locating every problem."""
    from implant_match.validation import problems_from_validation_error

    if not isinstance(document.data, dict):
        return None, [
            document.source.problem(
                (), N_("expected a mapping with the keys schema_version, groups")
            )
        ]
    try:
        return LexiconFile.model_validate(document.data), []
    except ValidationError as exc:
        return None, problems_from_validation_error(document, LexiconFile, exc)


def load_lexicon(project_file: Path | None = None, display: str | None = None) -> Lexicon:
    """The shipped lexicon, merged with ``project_file`` when given (its groups win by id)."""
    if project_file is None:
        return Lexicon(_load_shipped().groups)
    return lexicon_from_document(load_document(project_file, display))


def lexicon_from_document(document: Document) -> Lexicon:
    """The shipped lexicon merged with a loaded project lexicon, or :class:`DataError`."""
    extension, problems = parse_lexicon(document)
    if extension is None:
        raise DataError(problems)
    return replace(merge(_load_shipped(), extension, document.source), digest=document.digest)


def merge(shipped: LexiconFile, extension: LexiconFile, source: SourceMap) -> Lexicon:
    """Project groups override shipped ones with the same id and add the others.

    A project form that the shipped lexicon puts in another group is a contradiction the
    user should know about: it becomes a warning, and the project's choice wins.
    """
    owner = {fold(form): g.id for g in shipped.groups for form in g.forms()}
    problems: list[Problem] = []
    for i, group in enumerate(extension.groups):
        for j, form in enumerate(group.terms):
            other = owner.get(fold(form))
            if other is not None and other != group.id:
                problems.append(
                    source.problem(
                        ("groups", i, "terms", j),
                        N_(
                            "'{form}' is in shipped group '{other}'; the project's group "
                            "'{group}' now claims it"
                        ),
                        severity="warning",
                        params={"form": form, "other": other, "group": group.id},
                    )
                )
    overridden = {g.id for g in extension.groups}
    claimed = {fold(f) for g in extension.groups for f in g.forms()}
    kept = []
    for group in shipped.groups:
        if group.id in overridden:
            continue
        terms = tuple(t for t in group.terms if fold(t) not in claimed)
        kept.append(group.model_copy(update={"terms": terms}) if terms != group.terms else group)
    return Lexicon(tuple(sorted([*kept, *extension.groups], key=lambda g: g.id)), tuple(problems))


@functools.cache  # a file of the package: read once per process
def _load_shipped() -> LexiconFile:
    path = shipped_lexicon_path()
    # our own file, checked by the tests: the plain C loader is safe and 10x faster here
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    parsed, problems = parse_lexicon(Document(data, SourceMap(str(path))))
    if parsed is None:  # pragma: no cover - guarded by tests on the shipped file
        raise DataError(problems)
    return parsed
