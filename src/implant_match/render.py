"""Render stage: finished results as Rich tables and texts for people.

Nothing here computes a score: every number is read off the records the engine built.
Output stays readable at 80 columns; Rich drops colour when piped or under NO_COLOR.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from implant_match.analysis import highlight_spans
from implant_match.dataset import Dataset
from implant_match.errors import Problem
from implant_match.explanation import ActorLink, Exclusion, Match
from implant_match.gap_report import GapReport
from implant_match.i18n import N_, Language, language
from implant_match.models import Theme
from implant_match.promotion import Cohort
from implant_match.ranking import Engine, RankedMatch, Shortlist
from implant_match.selection import NO_STANDING, Standing
from implant_match.wording import (
    THEME_HOW,
    actor_reason,
    cohort_method,
    dilution_sentences,
    exclusion_reason,
    headline,
    keyword_shown,
    part_name,
    partial_shown,
    priority,
    stability_word,
)

SEVERITIES = {"error": N_("error"), "warning": N_("warning")}

if TYPE_CHECKING:
    from implant_match.recording import Recorded

BAR_WIDTH = 10
_PRIORITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "dim"}


def _report_table() -> Table:
    """The compact table of every report: a rule under the header, no side borders."""
    return Table(
        box=box.SIMPLE_HEAD,
        header_style="bold",
        pad_edge=False,
        padding=(0, 1, 0, 0),
        show_edge=False,
    )


def bar(score: float, width: int = BAR_WIDTH) -> str:
    """A small bar of eighths: ``score`` out of 100 over ``width`` cells."""
    eighths = round(max(0.0, min(100.0, score)) / 100 * width * 8)
    full, rest = divmod(eighths, 8)
    return ("█" * full + ("" if not rest else " ▏▎▍▌▋▊▉"[rest])).ljust(width)


def theme_labels(dataset: Dataset, ids: Sequence[str]) -> str:
    return ", ".join(dataset.themes[t].label if t in dataset.themes else t for t in ids)


def _words(words: Language | None) -> Language:
    """The language asked for; English for library callers that name none."""
    return words if words is not None else language("en")


def _actor_level(actor: ActorLink, dataset: Dataset, words: Language) -> str:
    """`` [at Isère level]`` for an actor listed on a territory the need's lies in; nothing
    for one of the need's own territory."""
    if not actor.level:
        return ""
    territory = dataset.territories.get(actor.territory_id)
    name = territory.name if territory else actor.territory_id
    return words.gettext(" [at {territory} level]").format(territory=name)


def actor_cell(match: Match) -> Text:
    text = Text()
    for actor in match.partners[:2]:
        text.append(f"+ {actor.name}\n", style="green")
    for actor in match.competitors[:2]:
        text.append(f"− {actor.name}\n", style="red")
    text.rstrip()
    return text


def render_shortlist(
    shortlist: Shortlist, engine: Engine, console: Console, words: Language | None = None
) -> None:
    """One table per need (or one table for an enterprise's best needs)."""
    words = _words(words)
    _ = words.gettext
    dataset = engine.dataset
    if shortlist.enterprise_view is not None:
        _render_enterprise_view(shortlist, engine, console, words)
        return
    if not shortlist.needs:
        console.print(_("No need matches these options."))
        return
    current_territory = None
    for item in shortlist.needs:
        need = item.need
        if need.territory != current_territory:
            current_territory = need.territory
            territory = dataset.territories.get(need.territory)
            console.rule(Text(territory.name if territory else need.territory, style="bold"))
        title = Text()
        title.append(f"{need.title}", style="bold")
        title.append(f"  [{need.id}]", style="dim")
        subtitle = Text()
        subtitle.append(
            _("priority {priority}").format(priority=priority(need.priority.value, words)),
            style=_PRIORITY_STYLE[need.priority.value],
        )
        if item.priority_theme:
            subtitle.append(_(" · territory priority theme"), style="cyan")
        subtitle.append(
            _(" · themes: {themes}").format(themes=theme_labels(dataset, need.themes)),
            style="dim",
        )
        subtitle.append(
            words.ngettext(" · {count} eligible", " · {count} eligible", item.eligible).format(
                count=item.eligible
            ),
            style="dim",
        )
        console.print(title)
        console.print(subtitle)
        if not item.candidates:
            console.print(_("  No candidate reaches the minimum score.") + "\n")
            continue
        console.print(_candidates_table(item.candidates, engine, words))
        console.print()


def _candidates_table(
    candidates: Sequence[RankedMatch],
    engine: Engine,
    words: Language,
    need_column: bool = False,
) -> Table:
    _ = words.gettext
    dataset = engine.dataset
    table = _report_table()
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column(_("Need") if need_column else _("Enterprise"), max_width=22)
    table.add_column(_("Score"), no_wrap=True)
    table.add_column(_("Themes"), max_width=20)
    table.add_column(_("Why"), max_width=30)
    table.add_column(_("Local actors"), max_width=18)
    decided = any(standing_cell(r.standing, words) for r in candidates)
    if decided:
        table.add_column(_("Status"), max_width=16)
    for ranked in candidates:
        match = ranked.match
        if need_column:
            need = dataset.need_by_id[match.need_id]
            who = Text(need.title)
            who.append(_id_line(need.id, words), style="dim")
        else:
            enterprise = dataset.enterprise_by_id[match.enterprise_id]
            who = Text(enterprise.name)
            who.append(f"\n{enterprise.origin}", style="dim")
        score = Text(words.number(match.score).rjust(5), style="bold")
        score.append(f"\n{bar(match.score, 5)}", style="cyan")
        if ranked.stability is not None:
            score.append(f"\n{stability_word(ranked.stability, words)}", style="dim")
        cells: list[str | Text] = [
            str(ranked.rank),
            who,
            score,
            theme_labels(dataset, match.matched_themes) or Text("—", style="dim"),
            headline(match, words),
            actor_cell(match),
        ]
        if decided:
            cells.append(standing_cell(ranked.standing, words))
        # a rejected or ineligible pair is shown (--show-decided) greyed out
        table.add_row(*cells, style="dim" if ranked.standing.left_out else None)
    return table


def _id_line(record_id: str, words: Language) -> str:
    """The id under a title, for typing in ``explain``: bracketed where people read French."""
    return f"\n{record_id}" if words.code == "en" else f"\n[{record_id}]"


STATUS_WORDS = {
    "shortlisted": N_("shortlisted"),
    "selected": N_("selected"),
    "rejected": N_("rejected"),
    "ineligible": N_("ineligible"),
    "on-hold": N_("on hold"),
}
PRESENT_WORDS = N_("already present on the territory")


def standing_cell(standing: Standing, words: Language) -> Text:
    """A pair's status and note, and whether the enterprise is already on the territory."""
    text = Text()
    if standing.status is not None:
        text.append(words.gettext(STATUS_WORDS[standing.status]), style="bold")
        if standing.note:
            text.append(f"\n{standing.note}", style="dim")
    if standing.present:
        text.append(("\n" if text else "") + words.gettext(PRESENT_WORDS), style="yellow")
    return text


def _render_enterprise_view(
    shortlist: Shortlist, engine: Engine, console: Console, words: Language
) -> None:
    _ = words.gettext
    enterprise = engine.dataset.enterprise_by_id[shortlist.options.enterprise or ""]
    console.print(Text(_("Needs that {name} fits best").format(name=enterprise.name), style="bold"))
    console.print(
        Text(
            _("{origin} · themes: {themes}").format(
                origin=enterprise.origin, themes=theme_labels(engine.dataset, enterprise.themes)
            ),
            style="dim",
        )
    )
    if not shortlist.enterprise_view:
        console.print(_("No need matches these options."))
        return
    console.print(
        Text(_("# is the enterprise's rank among the candidates of each need."), style="dim")
    )
    console.print(_candidates_table(shortlist.enterprise_view, engine, words, need_column=True))


def render_explanation(
    match: Match | Exclusion,
    engine: Engine,
    console: Console,
    words: Language | None = None,
    standing: Standing = NO_STANDING,
) -> None:
    """The waterfall of a score, the evidence, partners, competitors, what would raise it."""
    words = _words(words)
    _ = words.gettext
    number = words.number
    dataset = engine.dataset
    need = dataset.need_by_id[match.need_id]
    enterprise = dataset.enterprise_by_id[match.enterprise_id]
    console.print(
        Text.assemble(
            (enterprise.name, "bold"),
            _(" for "),
            (need.title, "bold"),
            (f"  [{enterprise.id} → {need.id}]", "dim"),
        )
    )
    if standing.status is not None or standing.present:
        said = " · ".join(standing_cell(standing, words).plain.split("\n"))
        console.print(Text.assemble((_("Status: "), "bold"), said))
    if isinstance(match, Exclusion):
        console.print(
            Text(
                _("Not ranked: {reason}").format(reason=exclusion_reason(match, dataset, words)),
                style="bold red",
            )
        )
        return
    table = Table(title=_("Score, part by part"), title_justify="left", header_style="bold")
    table.add_column(_("Part"))
    table.add_column(_("Similarity"), justify="right")
    table.add_column(_("Weight"), justify="right")
    table.add_column(_("Points"), justify="right")
    table.add_column(_("Running"), justify="right")
    running = 0.0
    for component in match.components:
        running += component.points
        table.add_row(
            part_name(component.name, words),
            number(component.raw, 3),
            _signed(component.weight, 3, words),
            _signed(component.points, 1, words),
            number(running),
        )
    table.add_row(
        Text(_("total"), style="bold"),
        "",
        "",
        Text(number(match.score), style="bold"),
        bar(match.score),
    )
    console.print(table)
    console.print(
        Text(
            _("complementarity: −weight × duplication × (sum of the parts above)"),
            style="dim",
        )
    )

    lines: list[Text] = []
    for link in match.theme_links:
        how = words.gettext(THEME_HOW[link.how])
        lines.append(
            Text(
                f"  {theme_labels(dataset, [link.need_theme])} — {how}"
                + (
                    ""
                    if link.how == "exact"
                    else f" {theme_labels(dataset, [link.enterprise_theme])}"
                )
                + f" ({number(link.similarity, 2)})"
            )
        )
    console.print(Text(_("Themes"), style="bold"))
    for line in lines or [Text(_("  none in common"), style="dim")]:
        console.print(line)
    for sentence in dilution_sentences(match, words):  # why the evidence counts for less
        console.print(Text("  " + sentence, style="yellow"))

    console.print(Text(_("Words in common"), style="bold"))
    console.print("  " + (", ".join(match.matched_words) or _("none")))
    for equivalence in match.lexicon_links:
        console.print(
            Text(_("  through the lexicon: {link}").format(link=equivalence), style="cyan")
        )
    if match.matched_keywords:
        console.print(
            Text(_("Key terms found: "), style="bold")
            + Text(", ".join(keyword_shown(match, k, words) for k in match.matched_keywords))
        )
    if match.partial_keywords:
        console.print(
            Text(_("Key terms in part: "), style="bold")
            + Text("; ".join(partial_shown(k, found, words) for k, found in match.partial_keywords))
        )
    if match.closest is not None:
        console.print(
            Text(_("Closest in meaning"), style="bold")
            + Text(
                _(" (cosine {value})").format(value=number(match.closest.similarity, 2)),
                style="dim",
            )
        )
        console.print(Text(_("  need: {sentence}").format(sentence=match.closest.need_sentence)))
        console.print(
            Text(_("  enterprise: {sentence}").format(sentence=match.closest.enterprise_sentence))
        )
    terms = match.matched_terms
    console.print(
        Panel(_highlighted(need.description, terms, engine), title=_("Need"), title_align="left")
    )
    console.print(
        Panel(
            _highlighted(enterprise.description, terms, engine),
            title=_("Enterprise"),
            title_align="left",
        )
    )

    console.print(Text(_("Local actors"), style="bold"))
    if not match.partners and not match.competitors:
        console.print(_("  none related on this territory"))
    for actor in match.partners:
        console.print(
            Text(
                _("  + partner: {name} ({reason})").format(
                    name=actor.name + _actor_level(actor, dataset, words),
                    reason=actor_reason(actor, match, dataset, words),
                )
                + declared(actor, dataset, words),
                style="green",
            )
        )
    for actor in match.competitors:
        console.print(
            Text(
                _("  − competitor: {name} ({reason}, duplication {duplication})").format(
                    name=actor.name + _actor_level(actor, dataset, words),
                    reason=actor_reason(actor, match, dataset, words),
                    duplication=number(actor.duplication, 2),
                )
                + declared(actor, dataset, words),
                style="red",
            )
        )

    console.print(Text(_("What would raise it"), style="bold"))
    raise_lines = []
    if match.missing_themes:
        raise_lines.append(
            _("themes of the need it does not show: {themes}").format(
                themes=theme_labels(dataset, match.missing_themes)
            )
        )
    if match.missing_keywords:
        raise_lines.append(
            _("key terms of the need absent from its text: {terms}").format(
                terms=", ".join(match.missing_keywords)
            )
        )
    for advice in raise_lines or [
        _("nothing obvious: it already shows the need's themes and terms")
    ]:
        console.print(f"  {advice}")


def _signed(value: float, decimals: int, words: Language) -> str:
    """``+35.4`` / ``-6.0`` as always in English; ``+35,4`` / ``−6,0`` in French."""
    if words.code == "en":
        return f"{value:+.{decimals}f}"
    return words.signed(value, decimals)


def decision_line(recorded: Recorded, dataset: Dataset, words: Language) -> str:
    """What ``decide`` did, in one line."""
    _ = words.gettext
    decision = recorded.decision
    enterprise = dataset.enterprise_by_id[decision.enterprise].name
    if decision.need is not None:
        scope = _("for {title} [{id}]").format(
            title=dataset.need_by_id[decision.need].title, id=decision.need
        )
    elif decision.territory is not None:
        scope = _("for every need of {territory}").format(
            territory=dataset.territories[decision.territory].name
        )
    else:
        scope = _("everywhere")
    if recorded.created_file:
        done = _("created {path}")
    elif recorded.new_entry:
        done = _("added to {path}")
    else:
        done = _("updated in {path}")
    return _("{enterprise} {scope}: {status} ({done})").format(
        enterprise=enterprise,
        scope=scope,
        status=_(STATUS_WORDS[decision.status.value]),
        done=done.format(path=recorded.path.as_posix()),
    )


def declared(actor: ActorLink, dataset: Dataset, words: Language) -> str:
    """What the actor's declaration says, for the explanation (empty when none applied)."""
    _ = words.gettext
    if actor.declaration is None:
        return ""
    if actor.declaration == "saturated":
        return _(" — declared saturated: this adds capacity, no duplication penalty")
    subject = actor.declared_for or ""
    if actor.declaration == "partner":
        if subject in dataset.enterprise_by_id:
            return _(" — declared partner of {name}: no duplication penalty").format(
                name=dataset.enterprise_by_id[subject].name
            )
        return _(" — declared partner for the theme {theme}: no duplication penalty").format(
            theme=theme_labels(dataset, [subject])
        )
    if subject in dataset.enterprise_by_id:
        return _(" — declared competitor of {name}").format(
            name=dataset.enterprise_by_id[subject].name
        )
    return _(" — declared competitor for the theme {theme}").format(
        theme=theme_labels(dataset, [subject])
    )


def _highlighted(text: str, terms: frozenset[str], engine: Engine) -> Text:
    out = Text(text)
    for start, end in highlight_spans(text, terms, engine.analysis):
        out.stylize("bold reverse", start, end)
    return out


def render_problems(
    problems: Sequence[Problem], console: Console, words: Language | None = None
) -> None:
    """One ``path:line:col: severity: message`` line per problem, then a summary."""
    words = _words(words)
    for problem in problems:
        console.print(problem_line(problem, words), markup=False, highlight=False, soft_wrap=True)
    console.print(summary_line(problems, words), markup=False, highlight=False, soft_wrap=True)


def problem_line(problem: Problem, words: Language) -> str:
    """``path:line:col: severity: message (hint)`` in the reader's language."""
    from implant_match.errors import one_line

    if words.code == "en":
        return problem.format()
    message, hint = problem.text(words.gettext)
    where = problem.path
    if problem.line:
        where += f":{problem.line}"
        if problem.column:
            where += f":{problem.column}"
    text = words.gettext("{where}: {severity}: {message}").format(
        where=where, severity=words.gettext(SEVERITIES[problem.severity]), message=message
    )
    if hint:
        text += f" ({hint})"
    return one_line(text)


def summary_line(problems: Sequence[Problem], words: Language | None = None) -> str:
    words = _words(words)
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    files = len({p.path for p in problems})
    if not problems:
        return words.gettext("ok: no problems found")
    return words.gettext("{errors}, {warnings} in {files}").format(
        errors=words.ngettext("{count} error", "{count} errors", errors).format(count=errors),
        warnings=words.ngettext("{count} warning", "{count} warnings", warnings).format(
            count=warnings
        ),
        files=words.ngettext("{count} file", "{count} files", files).format(count=files),
    )


def render_gaps(
    report: GapReport, engine: Engine, console: Console, words: Language | None = None
) -> None:
    """Needs without a sufficient answer, then priority themes nobody covers."""
    words = _words(words)
    _ = words.gettext
    dataset = engine.dataset
    console.print(
        Text(
            _("Needs whose best candidate scores below {threshold}").format(
                threshold=_figure(report.threshold, words)
            ),
            style="bold",
        )
    )
    if not report.needs:
        console.print(_("  none: every need has a candidate at or above the threshold"))
    else:
        table = _report_table()
        table.add_column(_("Need"), max_width=26)
        table.add_column(_("Priority"), no_wrap=True)
        table.add_column(_("Best candidate"), max_width=18)
        table.add_column(_("Short by"), justify="right", no_wrap=True)
        table.add_column(_("What it lacks"), max_width=30)
        for gap in report.needs:
            need = gap.need
            who = Text(need.title)
            who.append(_id_line(need.id, words), style="dim")
            if gap.best is None:
                best = Text(_("none eligible"), style="dim")
                lacks = _("no enterprise may go there")
            else:
                enterprise = dataset.enterprise_by_id[gap.best.enterprise_id]
                best = Text(f"{enterprise.name}\n{words.number(gap.best.score)}")
                lacks = _lacks(gap.best, dataset, words)
            table.add_row(
                who,
                Text(
                    priority(need.priority.value, words),
                    style=_PRIORITY_STYLE[need.priority.value],
                ),
                best,
                words.number(gap.shortfall),
                lacks,
            )
        console.print(table)
    for title, items in (
        (_("Priority themes with no need recorded"), report.priorities_without_need),
        (
            _("Priority themes no eligible enterprise works on"),
            report.priorities_without_enterprise,
        ),
    ):
        console.print(Text(title, style="bold"))
        if not items:
            console.print(_("  none"))
        for item in items:
            territory = dataset.territories[item.territory_id]
            label = theme_labels(dataset, [item.theme_id])
            if words.code == "en":  # as before: the theme's id beside its label
                label += f" [{item.theme_id}]"
            console.print(_("  {territory}: {theme}").format(territory=territory.name, theme=label))


def _figure(value: float, words: Language) -> str:
    """A threshold as people type it: ``50``, ``42.5`` (``42,5`` in French)."""
    return f"{value:g}" if words.code == "en" or value == int(value) else words.number(value)


def _lacks(match: Match, dataset: Dataset, words: Language) -> str:
    _ = words.gettext
    parts = []
    if match.missing_themes:
        parts.append(
            _("themes: {themes}").format(themes=theme_labels(dataset, match.missing_themes))
        )
    if match.missing_keywords:
        parts.append(_("terms: {terms}").format(terms=", ".join(match.missing_keywords[:4])))
    if match.competitors:
        parts.append(
            _("competes with {names}").format(names=", ".join(c.name for c in match.competitors))
        )
    return _("; ").join(parts) or _("weak text evidence")


def render_cohort(
    cohort: Cohort, engine: Engine, console: Console, words: Language | None = None
) -> None:
    """The chosen promotion, what each member serves and adds, and what stays uncovered."""
    words = _words(words)
    _ = words.gettext
    dataset = engine.dataset
    console.print(
        Text(
            _("Promotion of {size}: objective {objective} ({method})").format(
                size=len(cohort.enterprises),
                objective=words.number(cohort.objective, 3),
                method=cohort_method(cohort.method, words),
            ),
            style="bold",
        )
    )
    table = _report_table()
    table.add_column(_("Enterprise"), max_width=24)
    table.add_column(_("Adds"), justify="right", no_wrap=True)
    table.add_column(_("Needs it serves best"), max_width=44)
    scores = {(a.need_id, a.enterprise_id): a.score for a in cohort.assignments}
    for member in cohort.enterprises:
        enterprise = dataset.enterprise_by_id[member.enterprise_id]
        who = Text(enterprise.name)
        who.append(f"\n{enterprise.origin}", style="dim")
        if member.enterprise_id in cohort.selected:
            who.append("\nselected (pinned)", style="bold")
        served = Text()
        for need_id in member.needs:
            need = dataset.need_by_id[need_id]
            score = words.number(scores[(need_id, member.enterprise_id)])
            served.append(f"{need.title} ({score})\n")
        served.rstrip()
        table.add_row(
            who,
            words.number(member.marginal, 3),
            served if member.needs else Text(_("none above the cover threshold"), style="dim"),
        )
    console.print(table)
    console.print(
        Text(
            _(
                "Adds: how much the objective drops without it. Objective: sum over "
                "needs of priority weight (1-3) x best chosen score / 100."
            ),
            style="dim",
        )
    )
    if cohort.uncovered:
        console.print(
            Text(
                _("Needs left uncovered (best chosen score below {threshold}):").format(
                    threshold=_figure(cohort.cover_threshold, words)
                ),
                style="bold",
            )
        )
        best = {a.need_id: a.score for a in cohort.assignments}
        for need_id in cohort.uncovered:
            title = dataset.need_by_id[need_id].title
            if need_id in best:
                line = _("  {title} [{id}, best {score}]").format(
                    title=title, id=need_id, score=words.number(best[need_id])
                )
            else:
                line = _("  {title} [{id}]").format(title=title, id=need_id)
            console.print(line)
    render_alternatives(cohort, engine, console, words)


def render_alternatives(
    cohort: Cohort, engine: Engine, console: Console, words: Language | None = None
) -> None:
    """The near-ties: one member swapped, objective within the tolerance."""
    words = _words(words)
    _ = words.gettext
    tolerance = words.number(100 * cohort.tolerance, 1)
    if not cohort.alternatives:
        console.print(
            Text(
                _(
                    "No other cohort differing by one member comes within {tolerance} % of "
                    "the objective."
                ).format(tolerance=tolerance),
                style="dim",
            )
        )
        return
    console.print(
        Text(
            _("Near-ties: swapping one member, within {tolerance} % of the objective").format(
                tolerance=tolerance
            ),
            style="bold",
        )
    )
    names = engine.dataset.enterprise_by_id
    for alternative in cohort.alternatives:
        share = (
            100.0 * (alternative.objective - cohort.objective) / cohort.objective
            if cohort.objective
            else 0.0
        )
        console.print(
            _("  {joins} instead of {leaves}: {objective} ({share} %)").format(
                joins=names[alternative.joins].name,
                leaves=names[alternative.leaves].name,
                objective=words.number(alternative.objective, 3),
                share=words.signed(share, 2),
            )
        )


def render_themes(
    themes: Sequence[Theme], version: str, console: Console, words: Language | None = None
) -> None:
    """The themes as a tree (indented ids), with their labels and aliases."""
    from implant_match.taxonomy import theme_tree

    words = _words(words)
    _ = words.gettext
    table = Table(header_style="bold", box=box.SIMPLE_HEAD)
    table.add_column(_("Theme"), no_wrap=True)
    table.add_column(_("Label"))
    table.add_column(_("Aliases"))
    rows = theme_tree(themes)
    for depth, theme in rows:
        table.add_row("  " * depth + theme.id, theme.label, ", ".join(theme.aliases))
    console.print(table)
    console.print(
        words.ngettext(
            "{count} theme (shipped taxonomy {version})",
            "{count} themes (shipped taxonomy {version})",
            len(rows),
        ).format(count=len(rows), version=version)
    )
