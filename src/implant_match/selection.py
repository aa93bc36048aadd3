"""Which pairs a selection leaves out, and where each shown pair stands.

Between the data and the ranking: the committee's decisions (``rejected`` and
``ineligible`` pairs), an enterprise's presence on a territory (an implantation brings
someone new) and the ``--exclude``/``--include`` options decide which need-enterprise
pairs compete at all. :func:`left_out_pairs` is the one function that says so, for
``rank``, ``export``, ``cohort`` and any report; :func:`standing_of` says where a shown
pair stands (its decision, its presence, the team's own fields).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from implant_match.decisions import Decision, Decisions, Status
from implant_match.errors import Problem, UsageError
from implant_match.loading import SourceMap
from implant_match.messages import N_
from implant_match.models import Enterprise, EnterprisesFile, Need, NeedsFile
from implant_match.validation import fold


@dataclass(frozen=True)
class Selection:
    """How decisions, presence and the command's options shape a selection."""

    exclude: tuple[str, ...] = ()  # enterprises left out everywhere
    include: tuple[str, ...] = ()  # enterprises kept whatever a decision or presence says
    keep_present: bool = False  # keep enterprises already present on the need's territory
    show_decided: bool = False  # keep rejected and ineligible pairs (shown with their status)

    def check(self, enterprise_ids: Mapping[str, Any] | set[str]) -> None:
        """Unknown ids and contradictions, as usage errors."""
        from implant_match.errors import UnknownIdError, suggestion

        for enterprise_id in (*self.include, *self.exclude):
            if enterprise_id not in enterprise_ids:
                raise UnknownIdError(
                    N_("unknown enterprise '{id}'{suggestion}"),
                    params={
                        "id": enterprise_id,
                        "suggestion": suggestion(enterprise_id, sorted(enterprise_ids)),
                    },
                )
        both = set(self.include) & set(self.exclude)
        if both:
            raise UsageError(
                N_("an enterprise cannot be both included and excluded: {ids}"),
                params={"ids": ", ".join(sorted(both))},
            )


@dataclass(frozen=True)
class Standing:
    """Where a shown pair stands: the decision in force, presence, the team's fields."""

    decision: Decision | None = None
    present: bool = False  # the enterprise already works on the need's territory
    extra: Mapping[str, Any] = field(default_factory=dict)  # the enterprise's own fields

    @property
    def status(self) -> str | None:
        return None if self.decision is None else self.decision.status.value

    @property
    def note(self) -> str | None:
        return None if self.decision is None else self.decision.note

    @property
    def left_out(self) -> bool:
        """A rejected or ineligible pair (shown only with ``show_decided``)."""
        return self.decision is not None and self.decision.status.leaves_out


NO_STANDING = Standing()


def standing_of(decisions: Decisions, need: Need, enterprise: Enterprise) -> Standing:
    """The standing of one pair."""
    decision = decisions.for_pair(need, enterprise.id) if decisions else None
    present = enterprise.is_present(need.territory)
    if decision is None and not present and not enterprise.extra:
        return NO_STANDING
    return Standing(decision, present, enterprise.extra)


def left_out_pairs(
    needs: Sequence[Need],
    enterprises: Mapping[str, Enterprise],
    decisions: Decisions,
    selection: Selection,
) -> set[tuple[str, str]]:
    """The (need id, enterprise id) pairs among ``needs`` that the selection leaves out:
    rejected or ineligible (unless ``show_decided``), already present on the need's
    territory (unless ``keep_present``), or excluded; never an included enterprise."""
    out: set[tuple[str, str]] = set()
    kept = set(selection.include)
    for enterprise_id in selection.exclude:
        out.update((n.id, enterprise_id) for n in needs)
    present = [e for e in enterprises.values() if e.present_in and e.id not in kept]
    if present and not selection.keep_present:
        for enterprise in present:
            out.update((n.id, enterprise.id) for n in needs if enterprise.is_present(n.territory))
    if decisions and not selection.show_decided:
        concerned = {
            d.enterprise
            for d in decisions.entries
            if d.status.leaves_out and d.enterprise not in kept
        }
        for enterprise_id in sorted(concerned):
            for need in needs:
                decision = decisions.for_pair(need, enterprise_id)
                if decision is not None and decision.status.leaves_out:
                    out.add((need.id, enterprise_id))
    return {pair for pair in out if pair[1] not in kept}


def selected_enterprises(needs: Iterable[Need], decisions: Decisions) -> list[str]:
    """Enterprises selected for at least one of ``needs`` (by need, territory or
    everywhere), sorted: a cohort pins them."""
    needs = list(needs)
    found = {
        d.enterprise
        for d in decisions.entries
        if d.status is Status.SELECTED
        and any(
            (decision := decisions.for_pair(n, d.enterprise)) is not None
            and decision.status is Status.SELECTED
            for n in needs
        )
    }
    return sorted(found)


# -- presence: a warning where the data seems to forget it ------------------------------

# words of territory names that name no place
_GENERIC = {
    "metropole",
    "departement",
    "communaute",
    "agglomeration",
    "communes",
    "region",
    "pays",
    "ville",
    "vallee",
    "plaine",
    "bassin",
    "quartier",
    "quartiers",
    "grand",
    "de",
    "du",
    "des",
    "la",
    "le",
    "les",
    "l",
    "d",
    "et",
    "sur",
}


def place_words(text: str) -> set[str]:
    """The folded place names of a name (three letters or more): a hyphenated name stays one
    ("haute-savoie", "saone-et-loire"), so that Haute-Vienne is not read inside Haute-Savoie
    nor Saône-et-Loire inside the Loire."""
    kept = "".join(c if c.isalnum() or c == "-" else " " for c in fold(text))
    words = [w.strip("-") for w in kept.split()]
    return {w for w in words if len(w) >= 3 and w not in _GENERIC}


def presence_warnings(
    needs_file: NeedsFile, enterprises_file: EnterprisesFile, source: SourceMap
) -> list[Problem]:
    """Enterprises whose ``origin`` names a place of a territory they are ranked for while
    ``present_in`` does not list it: probably already there."""
    territories = [
        (t, place_words(t.name))
        for t in needs_file.territories
        if any(n.territory == t.id for n in needs_file.needs)
    ]
    indices = source.record_indices.get(("enterprises",))
    problems: list[Problem] = []
    for position, enterprise in enumerate(enterprises_file.enterprises):
        index = indices[position] if indices is not None else position
        origin = place_words(enterprise.origin)
        for territory, words in territories:
            if (
                origin & words
                and enterprise.accepts(territory.id)
                and not enterprise.is_present(territory.id)
            ):
                problems.append(
                    source.problem(
                        ("enterprises", index, "origin"),
                        N_(
                            "enterprise '{id}' comes from {origin}, inside territory "
                            "'{territory}' ({name}), where it is ranked as a newcomer"
                        ),
                        hint=N_("if it already works there, add present_in: [{territory}]"),
                        severity="warning",
                        params={
                            "id": enterprise.id,
                            "origin": enterprise.origin,
                            "territory": territory.id,
                            "name": territory.name,
                        },
                    )
                )
    return problems
