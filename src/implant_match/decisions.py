"""The decisions file: what the selection committee decided, pair by pair.

``decisions.yaml`` (beside the needs file, or given with ``--decisions``) lists entries
``{enterprise, need?, territory?, status, note?, date?, by?}``. An entry with a need
concerns that pair; with a territory only, every need of that territory; with neither,
the enterprise everywhere. The most specific entry wins, and among entries of the same
scope the last one in the file.

The file is loaded with the same loader as the data files and validated the same way:
every problem located as ``file:line:col``, unknown ids with the closest valid one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictInt,
    StringConstraints,
    ValidationError,
)
from pydantic.json_schema import WithJsonSchema

from implant_match.errors import Problem, suggestion
from implant_match.loading import Document, PathKey, SourceMap
from implant_match.messages import N_, Phrase
from implant_match.models import Id, Need, Record, ShortText, Text
from implant_match.validation import (
    custom_error,
    describe_value,
    fold,
    problems_from_validation_error,
    schema_version_problems,
)

DECISIONS_FILE = "decisions.yaml"


class Status(StrEnum):
    """Where an enterprise stands in the selection, for a need, a territory or everywhere."""

    SHORTLISTED = "shortlisted"
    SELECTED = "selected"
    REJECTED = "rejected"
    INELIGIBLE = "ineligible"
    ON_HOLD = "on-hold"

    @property
    def leaves_out(self) -> bool:
        """Rejected and ineligible pairs are left out of rankings, exports and cohorts."""
        return self in (Status.REJECTED, Status.INELIGIBLE)


# French words a committee writes (folded: lowercase, no accents), feminine and masculine
FRENCH_STATUSES: dict[str, Status] = {
    "preselectionnee": Status.SHORTLISTED,
    "preselectionne": Status.SHORTLISTED,
    "retenue": Status.SELECTED,
    "retenu": Status.SELECTED,
    "ecartee": Status.REJECTED,
    "ecarte": Status.REJECTED,
    "refusee": Status.REJECTED,
    "refuse": Status.REJECTED,
    "ineligible": Status.INELIGIBLE,
    "en attente": Status.ON_HOLD,
    "en-attente": Status.ON_HOLD,
}
_WRITTEN_ALIASES = ["présélectionnée", "retenue", "écartée", "refusée", "inéligible", "en attente"]


def parse_status(value: Any) -> Any:
    """A status from its English value or a French alias (any case, with or without
    accents); anything else that is text is an error naming the closest status."""
    if isinstance(value, Status) or not isinstance(value, str):
        return value
    folded = " ".join(fold(value).split())
    if folded in {s.value for s in Status}:
        return Status(folded)
    if folded in FRENCH_STATUSES:
        return FRENCH_STATUSES[folded]
    known = [*(s.value for s in Status), *_WRITTEN_ALIASES]
    raise custom_error(
        "status",
        N_(
            "'{value}' is not a status; expected shortlisted, selected, rejected, ineligible "
            "or on-hold (or présélectionnée, retenue, écartée, refusée, inéligible, en attente)"
            "{suggestion}"
        ),
        value=value,
        suggestion=suggestion(folded, known),
    )


StatusField = Annotated[
    Status,
    BeforeValidator(parse_status),
    WithJsonSchema({"type": "string", "enum": [*(s.value for s in Status), *_WRITTEN_ALIASES]}),
    Field(
        description="shortlisted, selected, rejected, ineligible or on-hold; French aliases: "
        "présélectionnée, retenue, écartée or refusée, inéligible, en attente."
    ),
]


def _real_date(value: str) -> str:
    """A YYYY-MM-DD text that names a day of the calendar."""
    import datetime

    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise custom_error(
            "date", N_("'{value}' is not a date of the calendar"), value=value
        ) from None
    return value


DateText = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$"),
    AfterValidator(_real_date),
    Field(description="Date of the decision, YYYY-MM-DD (in quotes)."),
]


class Decision(Record):
    """One decision: an enterprise for one need, a whole territory, or everywhere."""

    enterprise: Id = Field(description="Id of the enterprise decided on.")
    need: Id | None = Field(
        default=None, description="Id of the need; absent: the whole territory or everywhere."
    )
    territory: Id | None = Field(
        default=None,
        description="Id of the territory (without a need: every need of that territory).",
    )
    status: StatusField
    note: Text | None = Field(default=None, description="Why, or what comes next.")
    date: DateText | None = None
    by: ShortText | None = Field(default=None, description="Who decided (a person, a committee).")

    @property
    def scope(self) -> tuple[str, str | None, str | None]:
        """(enterprise, need, territory): entries with the same scope replace one another."""
        return (self.enterprise, self.need, None if self.need else self.territory)


class DecisionsFile(Record):
    """Contents of ``decisions.yaml``: the committee's decisions."""

    schema_version: StrictInt = Field(description="Version of the data format; must be 1.")
    decisions: tuple[Decision, ...] = Field(default=(), description="Decisions, in any order.")


@dataclass(frozen=True)
class Decisions:
    """The decisions in force, indexed by pair, territory and enterprise."""

    entries: tuple[Decision, ...] = ()
    path: str | None = None  # the file they come from, if any
    _by_need: dict[tuple[str, str], Decision] = field(default_factory=dict, repr=False)
    _by_territory: dict[tuple[str, str], Decision] = field(default_factory=dict, repr=False)
    _everywhere: dict[str, Decision] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, entries: Iterable[Decision], path: str | None = None) -> Decisions:
        decisions = cls(tuple(entries), path)
        for entry in decisions.entries:  # later entries of the same scope win
            if entry.need is not None:
                decisions._by_need[(entry.enterprise, entry.need)] = entry
            elif entry.territory is not None:
                decisions._by_territory[(entry.enterprise, entry.territory)] = entry
            else:
                decisions._everywhere[entry.enterprise] = entry
        return decisions

    def __bool__(self) -> bool:
        return bool(self.entries)

    def for_pair(self, need: Need, enterprise_id: str) -> Decision | None:
        """The decision in force for this pair: the need's, else the territory's, else the
        enterprise's everywhere; None when nothing was decided."""
        return (
            self._by_need.get((enterprise_id, need.id))
            or self._by_territory.get((enterprise_id, need.territory))
            or self._everywhere.get(enterprise_id)
        )

    def enterprises(self) -> set[str]:
        return {e.enterprise for e in self.entries}


def decisions_file(needs: Path, explicit: Path | None = None) -> Path | None:
    """The decisions file: ``explicit``, else ``decisions.yaml`` beside the needs file."""
    if explicit is not None:
        return explicit
    beside = needs.parent / DECISIONS_FILE
    return beside if beside.is_file() else None


def validate_decisions(
    document: Document,
    need_territory: Mapping[str, str],
    enterprise_ids: Iterable[str],
    territory_ids: Iterable[str],
) -> tuple[Decisions | None, list[Problem]]:
    """The decisions of a loaded document, checked against the data's ids; every problem
    located. ``need_territory`` maps each need id to its territory."""
    source, data = document.source, document.data
    if data is None:  # an empty file: no decision yet
        return Decisions.of((), source.path), []
    if not isinstance(data, dict):
        return None, [
            source.problem(
                (),
                N_("expected a mapping with the keys {keys}; found {found}"),
                params={"keys": "schema_version, decisions", "found": describe_value(data)},
            )
        ]
    problems: list[Problem] = schema_version_problems(source, data)
    parsed: DecisionsFile | None = None
    try:
        parsed = DecisionsFile.model_validate(data)
    except ValidationError as exc:
        problems.extend(problems_from_validation_error(document, DecisionsFile, exc))
    problems.extend(
        _reference_problems(
            source, data.get("decisions"), need_territory, set(enterprise_ids), set(territory_ids)
        )
    )
    if parsed is None or any(p.is_error for p in problems):
        return None, problems
    return Decisions.of(parsed.decisions, source.path), problems


def _reference_problems(
    source: SourceMap,
    entries: Any,
    need_territory: Mapping[str, str],
    enterprise_ids: set[str],
    territory_ids: set[str],
) -> list[Problem]:
    problems: list[Problem] = []
    if not isinstance(entries, list):
        return problems
    seen: dict[tuple[Any, ...], int] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        base: PathKey = ("decisions", i)
        checks = (
            ("enterprise", enterprise_ids, N_("unknown enterprise '{id}'{suggestion}")),
            ("need", set(need_territory), N_("unknown need '{id}'{suggestion}")),
            ("territory", territory_ids, N_("unknown territory '{id}'{suggestion}")),
        )
        for key, known, template in checks:
            value = entry.get(key)
            if isinstance(value, str) and value not in known:
                problems.append(
                    source.problem(
                        (*base, key),
                        template,
                        params={"id": value, "suggestion": suggestion(value, sorted(known))},
                    )
                )
        need, territory = entry.get("need"), entry.get("territory")
        if (
            isinstance(need, str)
            and isinstance(territory, str)
            and need in need_territory
            and need_territory[need] != territory
        ):
            problems.append(
                source.problem(
                    (*base, "territory"),
                    N_("need '{need}' is in territory '{actual}', not '{territory}'"),
                    hint=N_("leave 'territory' out when a need is given"),
                    params={"need": need, "actual": need_territory[need], "territory": territory},
                )
            )
        scope = (entry.get("enterprise"), need, None if need else territory)
        if all(isinstance(v, (str, type(None))) for v in scope):
            if scope in seen:
                first = source.place(("decisions", seen[scope]))
                at = N_("at {place}") if source.by_path else N_("on {place}")
                problems.append(
                    source.problem(
                        base,
                        N_(
                            "a decision for the same enterprise and scope comes earlier "
                            "({where}); this later one wins"
                        ),
                        severity="warning",
                        params={"where": Phrase.of(at, place=first)},
                    )
                )
            seen[scope] = i
    return problems
