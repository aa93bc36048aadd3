"""What the library hands back: ranked fits and explanations, as data with a JSON form.

Each result's ``to_dict()`` is exactly the object its command's ``--format json`` prints
(same keys, same rounding), so a notebook, the evaluation script and the CLI read the same
thing. No sentence is built here beyond the reasons the scorer already recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from implant_match.explanation import Exclusion, Match
from implant_match.models import Enterprise, Need
from implant_match.ranking import RankedMatch, Shortlist
from implant_match.selection import NO_STANDING, Standing

DECIMALS = 2  # points and scores in JSON


def rounded(value: float, decimals: int = DECIMALS) -> float:
    """``value`` rounded for JSON; ``+ 0.0`` turns -0.0 into 0.0."""
    return round(value, decimals) + 0.0


@dataclass(frozen=True)
class Fit:
    """One enterprise ranked for one need: its place, its score and why."""

    need: Need
    ranked: RankedMatch
    enterprise_name: str = ""  # empty when the caller did not give names

    @property
    def match(self) -> Match:
        return self.ranked.match

    @property
    def enterprise_id(self) -> str:
        return self.ranked.match.enterprise_id

    @property
    def score(self) -> float:
        return self.ranked.match.score

    @property
    def rank(self) -> int:
        return self.ranked.rank

    @property
    def stability(self) -> float | None:
        return self.ranked.stability

    def to_dict(self) -> dict[str, Any]:
        """The object ``rank --format json`` prints for this pair."""
        need, match, ranked = self.need, self.match, self.ranked
        return {
            "need_id": need.id,
            "need_title": need.title,
            "territory": need.territory,
            "priority": need.priority.value,
            "rank": ranked.rank,
            "enterprise_id": match.enterprise_id,
            "enterprise_name": self.enterprise_name,
            "score": rounded(match.score),
            "components": {c.name: rounded(c.points) for c in match.components},
            "similarities": {c.name: round(c.raw, 4) for c in match.components},
            "weights": {c.name: round(c.weight, 4) for c in match.components},
            "stability": None if ranked.stability is None else round(ranked.stability, 3),
            "matched_themes": list(match.matched_themes),
            "matched_keywords": list(match.matched_keywords),
            "partial_keywords": [
                {"keyword": keyword, "found": list(found)}
                for keyword, found in match.partial_keywords
            ],
            "matched_words": list(match.matched_words),
            "lexicon": list(match.lexicon_links),
            "reasons": english_reasons(match),
            "dilution": None if match.dilution is None else match.dilution.to_dict(),
            "partners": [a.actor_id for a in match.partners],
            "competitors": [a.actor_id for a in match.competitors],
            **standing_fields(ranked.standing),
            "need_extra": dict(need.extra),
        }


def english_reasons(match: Match) -> list[str]:
    """The reasons of a pair as the machine outputs give them: in English, whatever the
    reader's language."""
    from implant_match.i18n import language
    from implant_match.wording import reasons

    return reasons(match, language("en"))


def standing_fields(standing: Standing) -> dict[str, Any]:
    """``status``, ``note``, ``present`` and ``extra`` (the enterprise's own fields) of a
    pair, as JSON outputs add them."""
    return {
        "status": standing.status,
        "note": standing.note,
        "present": standing.present,
        "extra": dict(standing.extra),
    }


def fits(shortlist: Shortlist, names: Mapping[str, str] | None = None) -> list[Fit]:
    """Every ranked pair of a shortlist, in display order; ``names`` maps an enterprise id
    to its name (the data's ``Dataset.enterprise_names()``)."""
    names = names or {}
    return [
        Fit(need, ranked, names.get(ranked.match.enterprise_id, ""))
        for need, ranked in shortlist.pairs()
    ]


@dataclass(frozen=True)
class Explanation:
    """One pair, part by part; or, when the territory rule keeps it out, why."""

    need: Need
    enterprise: Enterprise
    result: Match | Exclusion
    standing: Standing = NO_STANDING

    @property
    def excluded(self) -> bool:
        return isinstance(self.result, Exclusion)

    @property
    def match(self) -> Match | None:
        return self.result if isinstance(self.result, Match) else None

    def to_dict(self) -> dict[str, Any]:
        """The object ``explain --format json`` prints."""
        head: dict[str, Any] = {
            "need_id": self.need.id,
            "need_title": self.need.title,
            "enterprise_id": self.enterprise.id,
            "enterprise_name": self.enterprise.name,
        }
        head.update(standing_fields(self.standing))
        result = self.result
        if isinstance(result, Exclusion):
            return {
                **head,
                "excluded": True,
                "reason": result.reason,
                "target_territories": list(self.enterprise.target_territories or ()),
                "territory": self.need.territory,
            }
        return {
            **head,
            "excluded": False,
            "score": rounded(result.score),
            "components": [
                {
                    "name": c.name,
                    "similarity": round(c.raw, 4),
                    "weight": round(c.weight, 4),
                    "points": rounded(c.points),
                    "evidence": list(c.evidence),
                }
                for c in result.components
            ],
            "theme_links": [
                {
                    "need_theme": link.need_theme,
                    "enterprise_theme": link.enterprise_theme,
                    "how": link.how,
                    "similarity": round(link.similarity, 4),
                }
                for link in result.theme_links
            ],
            "matched_themes": list(result.matched_themes),
            "matched_keywords": list(result.matched_keywords),
            "matched_words": list(result.matched_words),
            "lexicon": list(result.lexicon_links),
            "missing_themes": list(result.missing_themes),
            "missing_keywords": list(result.missing_keywords),
            "partners": [_actor(a) for a in result.partners],
            "competitors": [_actor(a) for a in result.competitors],
            "dilution": None if result.dilution is None else result.dilution.to_dict(),
            "reasons": english_reasons(result),
        }


def _actor(link: Any) -> dict[str, Any]:
    return {
        "actor_id": link.actor_id,
        "name": link.name,
        "duplication": round(link.duplication, 4),
        "declaration": link.declaration,
        "declared_for": link.declared_for,
        "territory": link.territory_id,
        "level": link.level,
    }
