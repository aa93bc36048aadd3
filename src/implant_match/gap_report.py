"""Territorial gaps: needs still without a sufficient answer, priorities nobody covers.

Three kinds of gap, for the incubator's next scouting tour:

* needs whose best eligible candidate scores below a threshold (with that candidate anyway,
  and what it lacks);
* priority themes of a territory with no need recorded;
* priority themes of a territory that no eligible enterprise works on at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from implant_match.explanation import Match
from implant_match.models import Need
from implant_match.ranking import Engine
from implant_match.weights import Weights

DEFAULT_THRESHOLD = 50.0
DECIMALS = 2  # scores in JSON
_PRIORITY_RANK = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class NeedGap:
    """A need whose best candidate falls short of the threshold."""

    need: Need
    best: Match | None  # None when no enterprise may set up on its territory
    shortfall: float  # threshold - best score


@dataclass(frozen=True)
class ThemeGap:
    """A priority theme of a territory that no need, or no enterprise, covers."""

    territory_id: str
    theme_id: str
    kind: str  # "no-need" or "no-enterprise"


@dataclass(frozen=True)
class GapReport:
    """Needs without a good enough candidate, and priority themes nobody covers."""

    threshold: float
    needs: tuple[NeedGap, ...]
    priorities_without_need: tuple[ThemeGap, ...]
    priorities_without_enterprise: tuple[ThemeGap, ...]

    def to_dict(self) -> dict[str, Any]:
        """The object ``gaps --format json`` prints."""
        return {
            "threshold": self.threshold,
            "needs": [
                {
                    "need_id": gap.need.id,
                    "territory": gap.need.territory,
                    "priority": gap.need.priority.value,
                    "shortfall": round(gap.shortfall, DECIMALS),
                    "best_enterprise_id": gap.best.enterprise_id if gap.best else None,
                    "best_score": round(gap.best.score, DECIMALS) if gap.best else None,
                    "missing_themes": list(gap.best.missing_themes) if gap.best else [],
                    "missing_keywords": list(gap.best.missing_keywords) if gap.best else [],
                    "competitors": [c.actor_id for c in gap.best.competitors] if gap.best else [],
                }
                for gap in self.needs
            ],
            "priorities_without_need": [
                {"territory": g.territory_id, "theme": g.theme_id}
                for g in self.priorities_without_need
            ],
            "priorities_without_enterprise": [
                {"territory": g.territory_id, "theme": g.theme_id}
                for g in self.priorities_without_enterprise
            ],
        }


def find_gaps(
    engine: Engine,
    weights: Weights,
    threshold: float = DEFAULT_THRESHOLD,
    territory: str | None = None,
    *,
    needs: Sequence[Need] | None = None,
    known: Mapping[str, Match | None] | None = None,
) -> GapReport:
    """Every gap of the dataset (or of one territory), most pressing first.

    ``needs`` limits the need gaps to those needs (default: all of the territory's);
    ``known`` gives needs' best candidates a caller already holds (a shortlist's first,
    None when no enterprise may set up there), so that they are not scored again.
    """
    dataset = engine.dataset
    if territory is not None:
        engine.check_territory(territory)
    if needs is None:
        needs = [
            n for n in dataset.needs if territory is None or dataset.lies_in(n.territory, territory)
        ]
    known = known or {}
    todo = [n for n in needs if n.id not in known]
    scored = engine.top_candidates(todo, weights, 1, 0.0) if todo else []
    tops = {n.id: top for n, top in zip(todo, scored, strict=True)}
    need_gaps = []
    for need in needs:
        if need.id in known:
            best = known[need.id]
        else:
            top = tops[need.id]
            best = (
                engine.match(need.id, engine.scorer.enterprises[top[0][1]].id, weights)
                if top
                else None
            )
        score = best.score if best else 0.0
        if score < threshold:
            need_gaps.append(NeedGap(need, best, threshold - score))
    need_gaps.sort(key=lambda g: (_PRIORITY_RANK[g.need.priority.value], -g.shortfall, g.need.id))

    without_need, without_enterprise = [], []
    for territory_id, item in dataset.territories.items():
        if territory is not None and not dataset.lies_in(territory_id, territory):
            continue
        # a région's priority is met by a need of a métropole inside it too
        need_themes = {
            t for n in dataset.needs if dataset.lies_in(n.territory, territory_id) for t in n.themes
        }
        col = engine.scorer.territory_col[territory_id]
        eligible = np.flatnonzero(engine.scorer.enterprise_allowed[:, col])
        offered = {t for j in eligible for t in engine.scorer.enterprises[j].themes}
        for theme_id in item.priority_themes:
            family = engine.descendants(theme_id)
            if not family & need_themes:
                without_need.append(ThemeGap(territory_id, theme_id, "no-need"))
            if not family & offered:
                without_enterprise.append(ThemeGap(territory_id, theme_id, "no-enterprise"))
    return GapReport(threshold, tuple(need_gaps), tuple(without_need), tuple(without_enterprise))
