"""The committee dossier as one self-contained HTML file, in the reader's language.

A Jinja2 template (``templates/report.html``, autoescaping on: every value from the data
is shown as text) with the ``jinja2.ext.i18n`` extension bound to the run's
:class:`~implant_match.i18n.Language`. Styles are inline; charts are HTML tables and
inline SVG, so the file needs no network and no JavaScript, and prints to A4.
Nothing here computes a score: every figure is read off the :class:`~implant_match.dossier.Report`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from implant_match.dossier import Card, Report
from implant_match.explanation import Match
from implant_match.stability import marker

if TYPE_CHECKING:
    from jinja2 import Environment

    from implant_match.i18n import Language

TEMPLATES = Path(__file__).parent / "templates"
BAR_WIDTH = 160.0  # px for a score of 100
EVIDENCE_TERMS = 5  # key terms named in a card's evidence
EVIDENCE_LINKS = 2  # lexicon equivalences named
_CLDR_LOCALE = {"fr": "fr_FR", "en": "en_GB"}


@dataclass(frozen=True)
class Segment:
    """One part of a score's stacked bar, in SVG units."""

    part: str
    x: float
    width: float
    points: float


def bar_segments(match: Match, width: float = BAR_WIDTH) -> list[Segment]:
    """The score's parts laid end to end: the positive parts from 0, then the penalty
    (a negative part) drawn back from their end, so the bar ends at the score."""
    segments = []
    x = 0.0
    for component in match.components:
        if component.points > 0:
            w = component.points / 100.0 * width
            segments.append(Segment(component.name, x, w, component.points))
            x += w
    for component in match.components:
        if component.points < 0:
            w = -component.points / 100.0 * width
            x -= w
            segments.append(Segment(component.name, x, w, component.points))
    return segments


def heat_class(score: float | None) -> str:
    """The CSS class of a heat-map cell: ``h0`` (0-9) to ``h9`` (90-100), ``hx`` excluded."""
    if score is None:
        return "hx"
    return f"h{min(9, max(0, int(score // 10)))}"


@functools.cache  # one per language: templates compile once
def environment(words: Language) -> Environment:
    """The Jinja2 environment: the templates folder, autoescaping, ``words``' gettext."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        words.gettext, words.ngettext, newstyle=True
    )
    return env


def render_report(report: Report, words: Language) -> str:
    """The dossier as one HTML document, in ``words``' language."""
    from babel.dates import format_date

    template = environment(words).get_template("report.html")
    themes = report.themes

    def label(theme_id: str) -> str:
        theme = themes.get(theme_id)
        return theme.label if theme else theme_id

    def labels(theme_ids: Sequence[str]) -> str:
        return ", ".join(label(t) for t in theme_ids)

    territories = {t.id: t.name for t in report.territories}

    def territory_name(territory_id: str) -> str:
        return territories.get(territory_id, territory_id)

    def enterprise_name(enterprise_id: str) -> str:
        return report.names.get(enterprise_id, enterprise_id)

    number = number_format(words)

    def percent(value: float) -> str:
        return words.number(100.0 * value, 0) + "\u00a0%"

    context: dict[str, Any] = {
        "report": report,
        "lang": words.code,
        "created": format_date(report.created, format="long", locale=_CLDR_LOCALE[words.code]),
        "label": label,
        "labels": labels,
        "territory_name": territory_name,
        "enterprise_name": enterprise_name,
        "marker": marker,
        "number": number,
        "signed": signed_format(words, number),
        "percent": percent,
        "bar": bar_segments,
        "bar_width": BAR_WIDTH,
        "heat_class": heat_class,
        "evidence": evidence,
        "terms_shown": EVIDENCE_TERMS,
        "links_shown": EVIDENCE_LINKS,
    }
    return template.render(context)


def number_format(words: Language) -> Callable[..., str]:
    """``words.number``, formatted once per distinct rounded value: a dossier writes tens
    of thousands of numbers (heat-map cells, points), most of them the same few hundred."""

    @functools.lru_cache(maxsize=8192)
    def cached(text: str, decimals: int) -> str:  # keyed by text: -0 is not 0 ("-0,0")
        return words.number(float(text), decimals)

    exponents = [Decimal(1).scaleb(-d) for d in range(8)]

    def number(value: float, decimals: int = 1) -> str:
        # rounded as Babel rounds (the decimal written by str, half to even), then formatted
        rounded = Decimal(str(value)).quantize(exponents[decimals], rounding=ROUND_HALF_EVEN)
        return cached(str(rounded), decimals)

    return number


def signed_format(words: Language, number: Callable[..., str]) -> Callable[..., str]:
    """``words.signed`` through the cached ``number``: a sign, then the absolute value."""

    def signed(value: float, decimals: int = 1) -> str:
        sign = words.signed(-1.0 if round(value, decimals) < 0 else 1.0, 0)[0]
        return sign + number(abs(value), decimals)

    return signed


@dataclass(frozen=True)
class Evidence:
    """What a card's sentences say, read off the match (never recomputed)."""

    themes: tuple[str, ...]  # theme ids of the need the enterprise meets
    terms: tuple[str, ...]  # the need's keywords and words found in the enterprise's text
    links: tuple[str, ...]  # lexicon equivalences that made them match ("FLE ≈ ...")


def evidence(card: Card) -> Evidence:
    """The evidence fields of a card's match, de-duplicated and cut to what a card shows."""
    match = card.ranked.match
    terms = tuple(dict.fromkeys((*match.matched_keywords, *match.matched_words)))
    return Evidence(
        match.matched_themes, terms[:EVIDENCE_TERMS], match.lexicon_links[:EVIDENCE_LINKS]
    )


def write_report(html: str, path: Path) -> int:
    """Write ``html`` to ``path`` atomically (a reader never sees half a file); return
    the bytes written."""
    from implant_match.files import atomic_destination

    data = html.encode("utf-8")
    with atomic_destination(path) as stream:
        stream.write(data)
    return len(data)
