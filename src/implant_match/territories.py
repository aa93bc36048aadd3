"""Nested territories: which territories a territory lies in, and checks of the nesting.

A territory may name a ``parent`` (a métropole its région, a commune its EPCI): an
enterprise that targets the parent is eligible for the child's needs, and the parent's
local actors count for the child's needs. Parents must exist and form no cycle;
``insee`` codes are checked for shape (by the model) and, for a 9-digit SIREN, for its
check digit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from implant_match.errors import Problem, suggestion
from implant_match.loading import SourceMap
from implant_match.messages import N_


def ancestors(parents: Mapping[str, str | None]) -> dict[str, tuple[str, ...]]:
    """Each id's chain of parents, nearest first (its own id excluded).

    A chain stops before an unknown id or where it would loop, so that data with a cycle
    (reported by :func:`find_cycles`) still gives finite chains. Linear in the ids.
    """
    out: dict[str, tuple[str, ...]] = {}
    for start in parents:
        path: list[str] = []
        on_path: set[str] = set()
        current: str | None = start
        while current is not None and current in parents:
            if current in out or current in on_path:
                break
            path.append(current)
            on_path.add(current)
            current = parents[current]
        # above the path: a known chain, or nothing (the top, an unknown id or a loop)
        tail = (current, *out[current]) if current is not None and current in out else ()
        for node in reversed(path):
            out[node] = tail
            tail = (node, *tail)
    return out


def find_cycles(parents: Mapping[str, str | None]) -> list[list[str]]:
    """Every cycle of the parent relation, each once, as ids from its first member in
    ``parents`` order; linear in the ids (each is visited once)."""
    state: dict[str, int] = {}  # 1: on the current walk, 2: done
    cycles: list[list[str]] = []
    for start in parents:
        if start in state:
            continue
        walk: list[str] = []
        current: str | None = start
        while current is not None and current in parents and current not in state:
            state[current] = 1
            walk.append(current)
            current = parents[current]
        if current is not None and state.get(current) == 1:
            cycles.append(walk[walk.index(current) :])
        for node in walk:
            state[node] = 2
    return cycles


def siren_checksum_ok(code: str) -> bool:
    """Whether a 9-digit SIREN passes its Luhn check digit."""
    total = 0
    for position, char in enumerate(reversed(code)):
        digit = int(char)
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def check_territories(
    source: SourceMap, territories: Iterable[tuple[int, dict[str, Any]]]
) -> list[Problem]:
    """Unknown parents (with a suggestion), cycles of parents and SIREN check digits of
    the raw territory records ``(index, record)`` of a needs file."""
    records = list(territories)
    ids = {r["id"] for _, r in records if isinstance(r.get("id"), str)}
    index_of: dict[str, int] = {}
    parents: dict[str, str | None] = {}
    problems: list[Problem] = []
    for i, record in records:
        territory_id, parent = record.get("id"), record.get("parent")
        if not isinstance(territory_id, str):
            continue
        index_of.setdefault(territory_id, i)
        if isinstance(parent, str):
            if parent not in ids:
                problems.append(
                    source.problem(
                        ("territories", i, "parent"),
                        N_("unknown territory '{id}'{suggestion}"),
                        params={"id": parent, "suggestion": suggestion(parent, sorted(ids))},
                    )
                )
            parents.setdefault(territory_id, parent)
        else:
            parents.setdefault(territory_id, None)
        code = record.get("insee")
        siren = isinstance(code, str) and len(code) == 9 and code.isdigit()
        if siren and not siren_checksum_ok(str(code)):
            problems.append(
                source.problem(
                    ("territories", i, "insee"),
                    N_("insee: '{code}' is not a valid SIREN (its check digit is wrong)"),
                    hint=N_("copy it again from the INSEE or BANATIC directory"),
                    params={"code": code},
                )
            )
    for cycle in find_cycles(parents):
        first = cycle[0]
        problems.append(
            source.problem(
                ("territories", index_of[first], "parent"),
                N_("territory '{id}' lies in itself: {chain}"),
                hint=N_("parents must form a tree"),
                params={"id": first, "chain": " -> ".join([*cycle, first])},
            )
        )
    return problems
