"""Choose a promotion: the K enterprises that together serve the needs best.

Objective, exactly: the sum over needs of ``w(priority) x max over chosen enterprises e of
score(e, need) / 100``, with ``w`` = 1, 2, 3 for low, medium, high and ``score = 0`` where
the territory rule excludes the pair. Two chosen enterprises covering the same need add
nothing for it, so the objective itself rewards complementarity.

Up to ``EXACT_LIMIT`` candidates the optimum is exact: a mixed-integer program solved by
HiGHS through ``highspy`` (choose x_e, assign each need to at most one chosen
enterprise). Beyond, the greedy algorithm, whose result is within (1 - 1/e) of the optimum
for this monotone submodular objective (Nemhauser, Wolsey and Fisher, 1978).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from implant_match.errors import UsageError
from implant_match.messages import N_
from implant_match.models import Need
from implant_match.ranking import Engine
from implant_match.selection import Selection, left_out_pairs, selected_enterprises
from implant_match.weights import Weights

EXACT_LIMIT = 200  # candidates
EXACT_MAX_SIZE = 25
DEFAULT_COVER = 50.0  # a need counts as served when its best chosen score reaches this
DECIMALS = 2  # scores in JSON
TIME_LIMIT = 30.0  # seconds for the exact solver before falling back to greedy
DEFAULT_TOLERANCE = 0.01  # near-ties: alternatives within 1 % of the objective
MAX_ALTERNATIVES = 10
TIE_CHUNK = 2048  # candidates whose swap is evaluated at once (bounds the memory)


@dataclass(frozen=True)
class Assignment:
    need_id: str
    enterprise_id: str
    score: float
    status: str | None = None  # the decision in force for the pair, if any
    note: str | None = None


@dataclass(frozen=True)
class Chosen:
    enterprise_id: str
    needs: tuple[str, ...]  # the needs it serves best among the chosen
    marginal: float  # objective lost without it


@dataclass(frozen=True)
class Alternative:
    """A near-tie: the cohort with one member swapped, and its objective."""

    leaves: str  # the member it drops
    joins: str  # the enterprise it takes instead
    objective: float
    enterprises: tuple[str, ...]  # the whole alternative cohort, sorted


@dataclass(frozen=True)
class Cohort:
    """A proposed promotion: who is chosen, what each brings, and what stays uncovered."""

    enterprises: tuple[Chosen, ...]
    objective: float
    method: str
    assignments: tuple[Assignment, ...]
    uncovered: tuple[str, ...]  # needs whose best chosen score is below cover_threshold
    cover_threshold: float = 0.0
    # near-ties: swaps of one member within ``tolerance`` (a share) of the objective
    alternatives: tuple[Alternative, ...] = ()
    tolerance: float = 0.0
    selected: tuple[str, ...] = ()  # members pinned because the committee selected them

    def to_dict(self) -> dict[str, Any]:
        """The object ``cohort --format json`` prints."""
        return {
            "enterprises": [
                {
                    "id": m.enterprise_id,
                    "needs": list(m.needs),
                    "marginal_contribution": round(m.marginal, 6),
                }
                for m in self.enterprises
            ],
            "objective": round(self.objective, 6),
            "method": self.method,
            "assignments": [
                {
                    "need_id": a.need_id,
                    "enterprise_id": a.enterprise_id,
                    "score": round(a.score, DECIMALS),
                    "status": a.status,
                    "note": a.note,
                }
                for a in self.assignments
            ],
            "uncovered": list(self.uncovered),
            "cover_threshold": self.cover_threshold,
            "selected": list(self.selected),
            "tolerance": self.tolerance,
            "alternatives": [
                {
                    "leaves": a.leaves,
                    "joins": a.joins,
                    "objective": round(a.objective, 6),
                    "enterprises": list(a.enterprises),
                }
                for a in self.alternatives
            ],
        }


@dataclass(frozen=True)
class Gains:
    """The objective's data: what each candidate (row) brings each need (column); named
    apart from the data problems of :mod:`implant_match.errors`."""

    candidates: list[str]
    needs: list[Need]
    gains: np.ndarray  # w(priority) x score / 100, 0 where excluded


def objective(gains: np.ndarray, chosen: list[int]) -> float:
    if not chosen or not gains.size:
        return 0.0
    return float(gains[chosen].max(axis=0).sum())


def build_problem(
    engine: Engine,
    weights: Weights,
    territory: str | None,
    selection: Selection | None = None,
    keep: frozenset[str] = frozenset(),
) -> Gains:
    """Gains of every candidate for the needs in scope; with ``selection``, the pairs it
    leaves out gain nothing and enterprises left out of every need are no candidates.
    Enterprises in ``keep`` (the selected ones, pinned) stay candidates whatever they gain."""
    if territory is not None:
        engine.check_territory(territory)
    dataset = engine.dataset
    needs = [
        n for n in dataset.needs if territory is None or dataset.lies_in(n.territory, territory)
    ]
    scorer = engine.scorer
    rows = np.array([scorer.need_index[n.id] for n in needs], dtype=np.int64)
    gains = np.zeros((len(scorer.enterprises), len(needs)))
    if len(rows):
        for block, raw in scorer.blocks(rows):
            scores = np.where(raw.allowed, raw.scores(weights), 0.0)
            gains[block] = (scores / 100.0).T
        gains *= np.array([n.priority.weight for n in needs], dtype=np.float64)[None, :]
    candidates = [e.id for e in scorer.enterprises]
    gone: set[int] = set()
    if selection is not None:
        pairs = left_out_pairs(
            needs, engine.dataset.enterprise_by_id, engine.dataset.decisions, selection
        )
        column = {n.id: j for j, n in enumerate(needs)}
        lost: dict[int, int] = {}
        for need_id, enterprise_id in pairs:
            i = scorer.enterprise_index[enterprise_id]
            gains[i, column[need_id]] = 0.0
            lost[i] = lost.get(i, 0) + 1
        gone = {i for i, count in lost.items() if count == len(needs)}
    useful = [
        i
        for i in range(len(candidates))
        if candidates[i] in keep or (i not in gone and (territory is None or gains[i].any()))
    ]
    return Gains([candidates[i] for i in useful], needs, gains[useful])


def choose_cohort(
    engine: Engine,
    size: int,
    weights: Weights,
    territory: str | None = None,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    method: str = "auto",
    cover_threshold: float = DEFAULT_COVER,
    keep_present: bool = False,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Cohort:
    """The best promotion of ``size`` enterprises under the objective above.

    The committee's decisions shape it: rejected and ineligible pairs gain nothing,
    enterprises already present on a territory gain nothing there (unless
    ``keep_present``), and enterprises selected for a need in scope are pinned like
    ``include``. Then the near-ties: cohorts differing by one member whose objective is
    within ``tolerance`` (a share, 0.01 = 1 %) of the one chosen.
    """
    for enterprise_id in (*include, *exclude):
        engine.check_enterprise(enterprise_id)
    if set(include) & set(exclude):
        raise UsageError(
            N_("an enterprise cannot be both included and excluded: {ids}"),
            params={"ids": ", ".join(sorted(set(include) & set(exclude)))},
        )
    if tolerance < 0:
        raise UsageError(
            N_("--tolerance must be 0 or more, not {tolerance}"), params={"tolerance": tolerance}
        )
    selection = Selection(tuple(exclude), tuple(include), keep_present)
    scope = [n for n in engine.dataset.needs if territory is None or n.territory == territory]
    selected = [
        e
        for e in selected_enterprises(scope, engine.dataset.decisions)
        if e not in exclude and e not in include
    ]
    problem = build_problem(engine, weights, territory, selection, frozenset(selected))
    wanted = sorted({*include, *selected})
    if len(wanted) > size:
        raise UsageError(
            N_("{count} enterprises are included or selected but --size is {size}"),
            N_("pinned: {pinned}"),
            params={"count": len(wanted), "size": size, "pinned": ", ".join(wanted)},
        )
    index = {e: i for i, e in enumerate(problem.candidates)}
    pinned = [index[e] for e in wanted if e in index]
    missing = [e for e in include if e not in index]
    if missing:
        raise UsageError(
            N_("cannot include {ids}: it may not serve any need here"),
            params={"ids": ", ".join(missing)},
        )
    banned = {index[e] for e in exclude if e in index}
    pool = [i for i in range(len(problem.candidates)) if i not in banned]
    k = min(size, len(pool))
    if method == "auto":
        method = "exact" if len(pool) <= EXACT_LIMIT and k <= EXACT_MAX_SIZE else "greedy"
    if method == "exact":
        chosen, label = _exact(problem.gains, pool, pinned, k)
    elif method == "greedy":
        chosen, label = _greedy(problem.gains, pool, pinned, k), "greedy (1 - 1/e guarantee)"
    else:
        raise UsageError(
            N_("unknown method '{method}'"),
            N_("use auto, exact or greedy"),
            params={"method": method},
        )
    cohort = _describe(problem, chosen, label, cover_threshold)
    ties = near_ties(problem, chosen, pool, pinned, tolerance)
    kept = tuple(e for e in selected if e in index)
    decisions, needs = engine.dataset.decisions, engine.dataset.need_by_id
    assignments = tuple(
        replace(a, status=d.status.value, note=d.note)
        if (d := decisions.for_pair(needs[a.need_id], a.enterprise_id)) is not None
        else a
        for a in cohort.assignments
    )
    return replace(
        cohort, assignments=assignments, alternatives=ties, tolerance=tolerance, selected=kept
    )


def near_ties(
    problem: Gains,
    chosen: list[int],
    pool: list[int],
    pinned: list[int],
    tolerance: float,
    limit: int = MAX_ALTERNATIVES,
) -> tuple[Alternative, ...]:
    """The cohorts that swap one unpinned member of ``chosen`` for one other candidate of
    ``pool`` and whose objective reaches ``(1 - tolerance)`` x the chosen one's, best first
    (ties by the ids dropped and taken), at most ``limit``."""
    gains = problem.gains
    if not chosen or not gains.size:
        return ()
    total = objective(gains, chosen)
    floor = total * (1.0 - tolerance) - 1e-9
    outside = np.array([i for i in pool if i not in chosen], dtype=np.int64)
    if not len(outside):
        return ()
    found: list[tuple[float, str, str, int, int]] = []
    for member in chosen:
        if member in pinned:
            continue
        rest = [c for c in chosen if c != member]
        base = gains[rest].max(axis=0) if rest else np.zeros(gains.shape[1])
        values = np.concatenate(  # by chunks: a national directory has 100,000 candidates
            [
                np.maximum(gains[outside[at : at + TIE_CHUNK]], base[None, :]).sum(axis=1)
                for at in range(0, len(outside), TIE_CHUNK)
            ]
        )
        for k in np.flatnonzero(values >= floor).tolist():
            joins = int(outside[k])
            found.append(
                (
                    float(values[k]),
                    problem.candidates[member],
                    problem.candidates[joins],
                    member,
                    joins,
                )
            )
    found.sort(key=lambda f: (-round(f[0], 9), f[1], f[2]))
    return tuple(
        Alternative(
            leaves,
            joins_id,
            value,
            tuple(sorted(problem.candidates[c] for c in [*chosen, joins] if c != member)),
        )
        for value, leaves, joins_id, member, joins in found[:limit]
    )


def _greedy(gains: np.ndarray, pool: list[int], pinned: list[int], k: int) -> list[int]:
    chosen = list(pinned)
    best = gains[chosen].max(axis=0) if chosen else np.zeros(gains.shape[1])
    while len(chosen) < k:
        rest = [i for i in pool if i not in chosen]
        if not rest:
            break
        gain = np.maximum(gains[rest], best[None, :]).sum(axis=1) - best.sum()
        pick = rest[int(np.argmax(gain))]  # first maximum: lowest index, i.e. lowest id
        chosen.append(pick)
        best = np.maximum(best, gains[pick])
    return sorted(chosen)


def _exact(gains: np.ndarray, pool: list[int], pinned: list[int], k: int) -> tuple[list[int], str]:
    """Solve the integer program with HiGHS (highspy: a fraction of scipy.optimize's start-up).

    Variables: x_a (enterprise a chosen, binary) then y_p for each pair p = (a, need j) with a
    positive gain (need j served by a, continuous in [0, 1]: integral at the optimum).
    Maximise sum gain_p y_p subject to sum x_a = k, sum_a y_(a,j) <= 1, y_(a,j) <= x_a.
    """
    import highspy

    n_cand, n_needs = len(pool), gains.shape[1]
    pairs = [(a, j) for a, i in enumerate(pool) for j in range(n_needs) if gains[i, j] > 0]
    if not pairs or k == 0:  # nothing any choice could gain: every choice is optimal
        return _greedy(gains, pool, pinned, k), "exact (no need can be served)"
    n_vars = n_cand + len(pairs)
    n_rows = 1 + n_needs + len(pairs)
    # column-wise (CSC) constraint matrix: x_a sits in row 0 and in the "y <= x" rows of
    # its pairs; y_p sits in its need's row and in its own "y <= x" row
    columns: list[list[tuple[int, float]]] = [[(0, 1.0)] for _ in range(n_cand)]
    columns += [[] for _ in pairs]
    for v, (a, j) in enumerate(pairs):
        columns[n_cand + v] = [(1 + j, 1.0), (1 + n_needs + v, 1.0)]
        columns[a].append((1 + n_needs + v, -1.0))
    starts = np.cumsum([0] + [len(c) for c in columns])
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_vars, n_rows
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate([np.zeros(n_cand), [gains[pool[a], j] for a, j in pairs]]).astype(
        np.float64
    )
    lower = np.zeros(n_vars)
    position = {i: a for a, i in enumerate(pool)}
    for i in pinned:
        lower[position[i]] = 1.0
    lp.col_lower_, lp.col_upper_ = lower, np.ones(n_vars)
    lp.row_lower_ = np.array([k] + [-inf] * (n_rows - 1), dtype=np.float64)
    lp.row_upper_ = np.array([k] + [1.0] * n_needs + [0.0] * len(pairs), dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts.astype(np.int32)
    lp.a_matrix_.index_ = np.array([r for c in columns for r, _ in c], dtype=np.int32)
    lp.a_matrix_.value_ = np.array([x for c in columns for _, x in c], dtype=np.float64)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_cand + [
        highspy.HighsVarType.kContinuous
    ] * len(pairs)
    with _quiet_stdout():  # HiGHS prints a banner from C++ whatever the options say
        solver = highspy.Highs()  # type: ignore[no-untyped-call]
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("time_limit", TIME_LIMIT)
    solver.setOptionValue("mip_rel_gap", 0.0)
    solver.passModel(lp)
    solver.run()
    if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return _greedy(gains, pool, pinned, k), "greedy (exact solver gave up)"
    values = solver.getSolution().col_value
    chosen = [pool[a] for a in range(n_cand) if values[a] > 0.5]
    return sorted(chosen), "exact (integer program, HiGHS)"


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _describe(problem: Gains, chosen: list[int], method: str, cover: float) -> Cohort:
    """Who serves which need best, what each member adds, which needs stay uncovered.

    Every need counts in the objective; a need is reported as served (and listed under its
    enterprise) only when its best chosen score reaches ``cover``, uncovered otherwise.
    """
    gains = problem.gains
    total = objective(gains, chosen)
    assignments = []
    serves: dict[int, list[str]] = {i: [] for i in chosen}
    uncovered = []
    for j, need in enumerate(problem.needs):
        column = [(gains[i, j], -i) for i in chosen if gains[i, j] > 0]
        if not column:
            uncovered.append(need.id)
            continue
        _, neg = max(column)
        best = -neg
        score = round(100.0 * gains[best, j] / need.priority.weight, 6)
        assignments.append(Assignment(need.id, problem.candidates[best], score))
        if score >= cover:
            serves[best].append(need.id)
        else:
            uncovered.append(need.id)
    members = tuple(
        Chosen(
            problem.candidates[i],
            tuple(serves[i]),
            total - objective(gains, [c for c in chosen if c != i]),
        )
        for i in sorted(chosen, key=lambda i: problem.candidates[i])
    )
    return Cohort(members, total, method, tuple(assignments), tuple(uncovered), cover)
