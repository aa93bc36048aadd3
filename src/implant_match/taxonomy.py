"""The shipped theme taxonomy: the fields of social and solidarity action, shared by all.

A needs file that omits ``themes:`` uses it as it is; one that has ``themes:`` extends it
(new ids, children of shipped themes) or replaces a shipped theme by giving its id. So
candidate files written against the shipped ids can be shared between territories and
teams. The taxonomy lives in ``implant_match/taxonomy.yaml`` and is read once per process.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import Field, StrictInt, StringConstraints, ValidationError

from implant_match.errors import DataError, Problem
from implant_match.models import Id, Record, Theme
from implant_match.text import fold

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Goal = Annotated[int, Field(ge=1, le=17)]


class TaxonomyTheme(Theme):
    """A theme of the shipped taxonomy: a theme plus its links to the lexicon and the SDGs."""

    lexicon: tuple[Id, ...] = Field(
        default=(), description="Ids of the lexicon groups (lexicon.yaml) of the theme's field."
    )
    sdg: tuple[Goal, ...] = Field(
        default=(),
        description="Numbers (1-17) of the UN Sustainable Development Goals (ODD) it serves.",
    )


class TaxonomyFile(Record):
    """Contents of ``taxonomy.yaml``."""

    schema_version: StrictInt = Field(description="Version of the file format; must be 1.")
    version: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        description="Version of the taxonomy's content (year.revision): ids are never reused."
    )
    themes: tuple[TaxonomyTheme, ...] = Field(description="The shipped themes.", min_length=1)


def shipped_taxonomy_path() -> Path:
    return Path(str(resources.files("implant_match"))) / "taxonomy.yaml"


@functools.cache  # a file of the package: read once per process
def load_taxonomy() -> TaxonomyFile:
    """The shipped taxonomy (checked by the tests: a broken file is a bug, not user data)."""
    path = shipped_taxonomy_path()
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    try:
        return TaxonomyFile.model_validate(data)
    except ValidationError as exc:  # pragma: no cover - guarded by tests on the shipped file
        problem = Problem(str(path), 0, 0, "error", f"invalid shipped taxonomy: {exc}")
        raise DataError([problem]) from None


def shipped_theme_ids() -> frozenset[str]:
    """Ids of the shipped themes."""
    return frozenset(t.id for t in load_taxonomy().themes)


def merge_themes(own: Iterable[Theme]) -> tuple[Theme, ...]:
    """The shipped themes, replaced by ``own`` themes of the same id, plus the others of
    ``own``, in the order shipped then own.

    An alias that one of ``own`` themes claims is taken off the shipped theme that had it
    (as a project lexicon claims a form): a word signals the theme the project chose.
    """
    own = tuple(own)
    if not own:
        return load_taxonomy().themes
    replaced = {t.id: t for t in own}
    claimed = {fold(form) for t in own for form in (t.label, *t.aliases)}
    merged: list[Theme] = []
    for theme in load_taxonomy().themes:
        if theme.id in replaced:
            merged.append(replaced.pop(theme.id))
            continue
        aliases = tuple(a for a in theme.aliases if fold(a) not in claimed)
        merged.append(
            theme if aliases == theme.aliases else theme.model_copy(update={"aliases": aliases})
        )
    merged.extend(t for t in own if t.id in replaced)
    return tuple(merged)


def search_themes(themes: Iterable[Theme], word: str | None = None) -> list[Theme]:
    """Themes whose id, label or an alias contains ``word`` (case and accents ignored),
    with their ancestors so that a tree can be drawn; all of them without a word."""
    themes = list(themes)
    if not word:
        return themes
    needle = fold(word).strip()
    by_id = {t.id: t for t in themes}
    hits = {
        t.id for t in themes if any(needle in fold(text) for text in (t.id, t.label, *t.aliases))
    }
    wanted = set(hits)
    for theme_id in hits:
        parent = by_id[theme_id].parent
        while parent is not None and parent in by_id and parent not in wanted:
            wanted.add(parent)
            parent = by_id[parent].parent
    return [t for t in themes if t.id in wanted]


def theme_tree(themes: Iterable[Theme]) -> list[tuple[int, Theme]]:
    """(depth, theme) in tree order: each root, then its children depth first, each level
    in the given order; a theme whose parent is not among ``themes`` is a root."""
    themes = list(themes)
    ids = {t.id for t in themes}
    children: dict[str | None, list[Theme]] = {}
    for theme in themes:
        parent = theme.parent if theme.parent in ids else None
        children.setdefault(parent, []).append(theme)
    out: list[tuple[int, Theme]] = []
    seen: set[str] = set()
    stack = [(0, t) for t in reversed(children.get(None, []))]
    while stack:
        depth, theme = stack.pop()
        if theme.id in seen:
            continue
        seen.add(theme.id)
        out.append((depth, theme))
        stack.extend((depth + 1, c) for c in reversed(children.get(theme.id, [])))
    return out
