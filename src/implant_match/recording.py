"""Record a decision in the decisions file, as a person would edit it by hand.

The file is edited round-trip with ruamel.yaml: its comments, blank lines, key order,
quotes and indentation stay as they were; only the entry decided on is added or changed.
The ids are checked against the data first, and the result is validated before the file
is replaced, atomically (a temporary file in the same folder, then ``os.replace``),
keeping the file's mode. A missing file is created with a commented header.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from implant_match.dataset import Dataset, check_decisions
from implant_match.decisions import Decision
from implant_match.errors import DataError, Problem, UnknownIdError, UsageError, suggestion
from implant_match.files import write_text
from implant_match.loading import decode, parse_document, read_bytes
from implant_match.messages import N_

HEADER = """\
# Decisions of the selection committee, read by implant-match (rank, export, cohort).
# One entry per decision: an enterprise for one need, for a whole territory, or everywhere.
# status: shortlisted, selected, rejected, ineligible or on-hold
#   (French: présélectionnée, retenue, écartée or refusée, inéligible, en attente).
# rejected and ineligible pairs are left out of rankings; selected ones are pinned in cohorts.
# Edit by hand, or with: implant-match decide ENTERPRISE [NEED] --status STATUS --note "..."
schema_version: 1
decisions:
"""
FIELD_ORDER = ("enterprise", "need", "territory", "status", "note", "date", "by")


@dataclass(frozen=True)
class Recorded:
    """What ``decide`` did: the decision as written, where, and whether it was new."""

    decision: Decision
    path: Path
    created_file: bool
    new_entry: bool


def check_ids(
    dataset: Dataset, enterprise: str, need: str | None, territory: str | None
) -> str | None:
    """Unknown ids (with suggestions) as usage errors; the territory the entry names (the
    need's own when both are given and agree)."""
    if enterprise not in dataset.enterprise_by_id:
        raise UnknownIdError(
            N_("unknown enterprise '{id}'{suggestion}"),
            params={
                "id": enterprise,
                "suggestion": suggestion(enterprise, dataset.enterprise_by_id),
            },
        )
    if need is not None and need not in dataset.need_by_id:
        raise UnknownIdError(
            N_("unknown need '{id}'{suggestion}"),
            params={"id": need, "suggestion": suggestion(need, dataset.need_by_id)},
        )
    if territory is not None and territory not in dataset.territories:
        raise UnknownIdError(
            N_("unknown territory '{id}'{suggestion}"),
            params={"id": territory, "suggestion": suggestion(territory, dataset.territories)},
        )
    if need is not None and territory is not None:
        actual = dataset.need_by_id[need].territory
        if actual != territory:
            raise UsageError(
                N_("need '{need}' is in territory '{actual}', not '{territory}'"),
                N_("leave --territory out when a need is given"),
                params={"need": need, "actual": actual, "territory": territory},
            )
        return None  # the need says it
    return territory


def record_decision(
    dataset: Dataset,
    path: Path,
    *,
    enterprise: str,
    status: str,
    need: str | None = None,
    territory: str | None = None,
    note: str | None = None,
    date: str | None = None,
    by: str | None = None,
) -> Recorded:
    """Add the decision to the file at ``path`` or update the entry of the same scope
    (enterprise, need or territory); unknown ids, a bad status or a broken file raise
    before anything is written."""
    territory = check_ids(dataset, enterprise, need, territory)
    try:
        decision = Decision.model_validate(
            {
                "enterprise": enterprise,
                "need": need,
                "territory": territory,
                "status": status,
                "note": note,
                "date": date,
                "by": by,
            }
        )
    except ValidationError as exc:
        from implant_match.validation import error_phrase

        first = exc.errors()[0]
        raise UsageError(
            N_("--{name}: {reason}"),
            params={
                "name": ".".join(str(p) for p in first["loc"]) or "decision",
                "reason": error_phrase(first),
            },
        ) from None
    created = not path.exists()
    text = HEADER if created else _read(path)
    if not created:
        _check(text, path, dataset)  # never edit a file that is already broken
    yaml = _yaml(text)
    document = _round_trip(yaml, text, path)
    entries = document.get("decisions")
    if entries is None:
        from ruamel.yaml.comments import CommentedSeq

        entries = document["decisions"] = CommentedSeq()
    values = {k: v for k, v in decision.model_dump(mode="json").items() if v is not None}
    index = _same_scope(entries, decision)
    if index is None:
        from ruamel.yaml.comments import CommentedMap

        entry = CommentedMap()
        for key in FIELD_ORDER:
            if key in values:
                entry[key] = values[key]
        last = entries[-1] if len(entries) else None
        entries.append(entry)
        if isinstance(last, CommentedMap) and len(last):
            # the lines after the last entry (a closing comment) stay at the end
            _move_trailing_comment(last, list(last)[-1], entry, list(entry)[-1])
    else:
        entry = entries[index]
        for key in ("status", "note", "date", "by"):
            if key in values:
                _set(entry, key, values[key])
    out = io.StringIO()
    yaml.dump(document, out)
    written = out.getvalue()
    _check(written, path, dataset)
    write_text(path, written)
    return Recorded(decision, path, created, index is None)


def _read(path: Path) -> str:
    """The file's text, read as every data file is: size limit, folders and devices
    refused, UTF-16 and stray bytes reported at their line."""
    name = str(path)
    text = decode(read_bytes(path, name), name)
    return text.removeprefix("\ufeff")


def _round_trip(yaml: Any, text: str, path: Path) -> Any:
    """``text`` loaded for editing (checked first, so this only fails on what the round-trip
    loader reads differently: said as a problem of the file, never a crash)."""
    from ruamel.yaml.error import YAMLError

    try:
        return yaml.load(text)
    except (YAMLError, ValueError, TypeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        problem = Problem(
            str(path),
            line,
            column,
            "error",
            N_("cannot be edited in place ({reason})"),
            N_("fix the file by hand, or name another one with --decisions"),
            {"reason": str(exc).splitlines()[0] if str(exc) else type(exc).__name__},
        )
        raise DataError([problem]) from None


def _yaml(text: str) -> Any:
    """A round-trip YAML that writes the way ``text`` is written (indentation of mappings
    and of sequence items, quotes, long lines unwrapped)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    _, indent, offset = load_yaml_guess_indent(text) if text.strip() else (None, 2, 2)
    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096
    indent = indent or 2
    offset = 2 if offset is None else offset
    yaml.indent(mapping=indent, sequence=max(indent, offset + 2), offset=offset)
    return yaml


def _set(entry: Any, key: str, value: Any) -> None:
    """Set ``key`` of a round-trip mapping: in place when present, else before the first key
    that comes after it in ``FIELD_ORDER`` (else last, taking over the comment lines that
    followed the previous last key, so they stay below the entry)."""
    if key in entry:
        entry[key] = value
        return
    later = FIELD_ORDER[FIELD_ORDER.index(key) + 1 :]
    keys = list(entry)
    at = next((i for i, k in enumerate(keys) if k in later), None)
    if at is not None:
        entry.insert(at, key, value)
        return
    entry[key] = value
    if keys:
        _move_trailing_comment(entry, keys[-1], entry, key)


def _move_trailing_comment(source: Any, old: str, target: Any, new: str) -> None:
    """Comment lines after the value of ``old`` in ``source`` go after the value of ``new``
    in ``target`` (the end-of-line comment of ``old`` stays)."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    slots = source.ca.items.get(old)
    token = slots[2] if slots and len(slots) > 2 else None
    if token is None:
        return
    if token.start_mark.column == 0:  # only whole lines below the value: they all move
        slots[2] = None
        target.ca.items[new] = [None, None, token, None]
        return
    inline, rest = token.value.split("\n", 1)
    if not rest:
        return
    token.value = inline + "\n"
    target.ca.items[new] = [None, None, CommentToken("\n" + rest, CommentMark(0), None), None]


def _same_scope(entries: Any, decision: Decision) -> int | None:
    """The last entry with the decision's scope (the one in force), if any."""
    found = None
    for i, entry in enumerate(entries):
        if not hasattr(entry, "get"):
            continue
        need = entry.get("need")
        scope = (entry.get("enterprise"), need, None if need else entry.get("territory"))
        if scope == decision.scope:
            found = i
    return found


def _check(text: str, path: Path, dataset: Dataset) -> None:
    check_decisions(dataset, parse_document(text, str(path)))
