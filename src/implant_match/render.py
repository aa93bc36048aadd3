"""Render stage: finished results as Rich tables and texts for people.

Nothing here computes a score: every number is read off the records the engine built.
Output stays readable at 80 columns; Rich drops colour when piped or under NO_COLOR.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from implant_match.analysis import highlight_spans
from implant_match.dataset import Dataset
from implant_match.errors import Problem
from implant_match.gap_report import GapReport
from implant_match.models import Theme
from implant_match.promotion import Cohort
from implant_match.ranking import Engine, RankedMatch, Shortlist
from implant_match.scoring import ActorLink, Exclusion, Match
from implant_match.stability import marker

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


def _actor_level(actor: ActorLink, dataset: Dataset) -> str:
    """`` [at Isère level]`` for an actor listed on a territory the need's lies in; nothing
    for one of the need's own territory."""
    if not actor.level:
        return ""
    territory = dataset.territories.get(actor.territory_id)
    return f" [at {territory.name if territory else actor.territory_id} level]"


def actor_cell(match: Match) -> Text:
    text = Text()
    for actor in match.partners[:2]:
        text.append(f"+ {actor.name}\n", style="green")
    for actor in match.competitors[:2]:
        text.append(f"− {actor.name}\n", style="red")
    text.rstrip()
    return text


def render_shortlist(shortlist: Shortlist, engine: Engine, console: Console) -> None:
    """One table per need (or one table for an enterprise's best needs)."""
    dataset = engine.dataset
    if shortlist.enterprise_view is not None:
        _render_enterprise_view(shortlist, engine, console)
        return
    if not shortlist.needs:
        console.print("No need matches these options.")
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
            f"priority {need.priority.value}", style=_PRIORITY_STYLE[need.priority.value]
        )
        if item.priority_theme:
            subtitle.append(" · territory priority theme", style="cyan")
        subtitle.append(f" · themes: {theme_labels(dataset, need.themes)}", style="dim")
        subtitle.append(f" · {item.eligible} eligible", style="dim")
        console.print(title)
        console.print(subtitle)
        if not item.candidates:
            console.print("  No candidate reaches the minimum score.\n")
            continue
        console.print(_candidates_table(item.candidates, engine))
        console.print()


def _candidates_table(
    candidates: Sequence[RankedMatch], engine: Engine, need_column: bool = False
) -> Table:
    dataset = engine.dataset
    table = _report_table()
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Need" if need_column else "Enterprise", max_width=22)
    table.add_column("Score", no_wrap=True)
    table.add_column("Themes", max_width=20)
    table.add_column("Why", max_width=30)
    table.add_column("Local actors", max_width=18)
    for ranked in candidates:
        match = ranked.match
        if need_column:
            need = dataset.need_by_id[match.need_id]
            who = Text(need.title)
            who.append(f"\n{need.id}", style="dim")
        else:
            enterprise = dataset.enterprise_by_id[match.enterprise_id]
            who = Text(enterprise.name)
            who.append(f"\n{enterprise.origin}", style="dim")
        score = Text(f"{match.score:5.1f}", style="bold")
        score.append(f"\n{bar(match.score, 5)}", style="cyan")
        if ranked.stability is not None:
            score.append(f"\n{marker(ranked.stability)}", style="dim")
        table.add_row(
            str(ranked.rank),
            who,
            score,
            theme_labels(dataset, match.matched_themes) or Text("—", style="dim"),
            match.headline,
            actor_cell(match),
        )
    return table


def _render_enterprise_view(shortlist: Shortlist, engine: Engine, console: Console) -> None:
    enterprise = engine.dataset.enterprise_by_id[shortlist.options.enterprise or ""]
    console.print(Text(f"Needs that {enterprise.name} fits best", style="bold"))
    console.print(
        Text(
            f"{enterprise.origin} · themes: {theme_labels(engine.dataset, enterprise.themes)}",
            style="dim",
        )
    )
    if not shortlist.enterprise_view:
        console.print("No need matches these options.")
        return
    console.print(
        Text("# is the enterprise's rank among the candidates of each need.", style="dim")
    )
    console.print(_candidates_table(shortlist.enterprise_view, engine, need_column=True))


def render_explanation(match: Match | Exclusion, engine: Engine, console: Console) -> None:
    """The waterfall of a score, the evidence, partners, competitors, what would raise it."""
    dataset = engine.dataset
    need = dataset.need_by_id[match.need_id]
    enterprise = dataset.enterprise_by_id[match.enterprise_id]
    console.print(
        Text.assemble(
            (enterprise.name, "bold"),
            " for ",
            (need.title, "bold"),
            (f"  [{enterprise.id} → {need.id}]", "dim"),
        )
    )
    if isinstance(match, Exclusion):
        console.print(Text(f"Not ranked: {match.reason}", style="bold red"))
        return
    table = Table(title="Score, part by part", title_justify="left", header_style="bold")
    table.add_column("Part")
    table.add_column("Similarity", justify="right")
    table.add_column("Weight", justify="right")
    table.add_column("Points", justify="right")
    table.add_column("Running", justify="right")
    running = 0.0
    for component in match.components:
        running += component.points
        table.add_row(
            component.name,
            f"{component.raw:.3f}",
            f"{component.weight:+.3f}",
            f"{component.points:+.1f}",
            f"{running:.1f}",
        )
    table.add_row(
        Text("total", style="bold"),
        "",
        "",
        Text(f"{match.score:.1f}", style="bold"),
        bar(match.score),
    )
    console.print(table)
    console.print(
        Text(
            "complementarity: −weight × duplication × (sum of the parts above)",
            style="dim",
        )
    )

    lines: list[Text] = []
    for link in match.theme_links:
        how = {
            "exact": "exact",
            "narrower": "via its narrower theme",
            "broader": "via its broader theme",
            "sibling": "via a sibling theme",
        }[link.how]
        lines.append(
            Text(
                f"  {theme_labels(dataset, [link.need_theme])} — {how}"
                + (
                    ""
                    if link.how == "exact"
                    else f" {theme_labels(dataset, [link.enterprise_theme])}"
                )
                + f" ({link.similarity:.2f})"
            )
        )
    console.print(Text("Themes", style="bold"))
    for line in lines or [Text("  none in common", style="dim")]:
        console.print(line)

    console.print(Text("Words in common", style="bold"))
    console.print("  " + (", ".join(match.matched_words) or "none"))
    for equivalence in match.lexicon_links:
        console.print(Text(f"  through the lexicon: {equivalence}", style="cyan"))
    if match.matched_keywords:
        console.print(
            Text("Key terms found: ", style="bold") + Text(", ".join(match.matched_keywords))
        )
    terms = match.matched_terms
    console.print(
        Panel(_highlighted(need.description, terms, engine), title="Need", title_align="left")
    )
    console.print(
        Panel(
            _highlighted(enterprise.description, terms, engine),
            title="Enterprise",
            title_align="left",
        )
    )

    console.print(Text("Local actors", style="bold"))
    if not match.partners and not match.competitors:
        console.print("  none related on this territory")
    for actor in match.partners:
        console.print(
            Text(
                f"  + partner: {actor.name}{_actor_level(actor, dataset)} ({actor.reason})",
                style="green",
            )
        )
    for actor in match.competitors:
        console.print(
            Text(
                f"  − competitor: {actor.name}{_actor_level(actor, dataset)} ({actor.reason}, "
                f"duplication {actor.duplication:.2f})",
                style="red",
            )
        )

    console.print(Text("What would raise it", style="bold"))
    raise_lines = []
    if match.missing_themes:
        raise_lines.append(
            "themes of the need it does not show: " + theme_labels(dataset, match.missing_themes)
        )
    if match.missing_keywords:
        raise_lines.append(
            "key terms of the need absent from its text: " + ", ".join(match.missing_keywords)
        )
    for advice in raise_lines or ["nothing obvious: it already shows the need's themes and terms"]:
        console.print(f"  {advice}")


def _highlighted(text: str, terms: frozenset[str], engine: Engine) -> Text:
    out = Text(text)
    for start, end in highlight_spans(text, terms, engine.analysis):
        out.stylize("bold reverse", start, end)
    return out


def render_problems(problems: Sequence[Problem], console: Console) -> None:
    """One ``path:line:col: severity: message`` line per problem, then a summary."""
    for problem in problems:
        console.print(problem.format(), markup=False, highlight=False, soft_wrap=True)
    console.print(summary_line(problems), markup=False, highlight=False, soft_wrap=True)


def summary_line(problems: Sequence[Problem]) -> str:
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    files = len({p.path for p in problems})
    if not problems:
        return "ok: no problems found"
    return (
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
        f"in {files} file{'s' * (files != 1)}"
    )


def render_gaps(report: GapReport, engine: Engine, console: Console) -> None:
    """Needs without a sufficient answer, then priority themes nobody covers."""
    dataset = engine.dataset
    console.print(
        Text(f"Needs whose best candidate scores below {report.threshold:g}", style="bold")
    )
    if not report.needs:
        console.print("  none: every need has a candidate at or above the threshold")
    else:
        table = _report_table()
        table.add_column("Need", max_width=26)
        table.add_column("Priority", no_wrap=True)
        table.add_column("Best candidate", max_width=18)
        table.add_column("Short by", justify="right", no_wrap=True)
        table.add_column("What it lacks", max_width=30)
        for gap in report.needs:
            need = gap.need
            who = Text(need.title)
            who.append(f"\n{need.id}", style="dim")
            if gap.best is None:
                best, lacks = Text("none eligible", style="dim"), "no enterprise may go there"
            else:
                enterprise = dataset.enterprise_by_id[gap.best.enterprise_id]
                best = Text(f"{enterprise.name}\n{gap.best.score:.1f}")
                lacks = _lacks(gap.best, dataset)
            table.add_row(
                who,
                Text(need.priority.value, style=_PRIORITY_STYLE[need.priority.value]),
                best,
                f"{gap.shortfall:.1f}",
                lacks,
            )
        console.print(table)
    for title, items in (
        ("Priority themes with no need recorded", report.priorities_without_need),
        ("Priority themes no eligible enterprise works on", report.priorities_without_enterprise),
    ):
        console.print(Text(title, style="bold"))
        if not items:
            console.print("  none")
        for item in items:
            territory = dataset.territories[item.territory_id]
            console.print(
                f"  {territory.name}: {theme_labels(dataset, [item.theme_id])} [{item.theme_id}]"
            )


def _lacks(match: Match, dataset: Dataset) -> str:
    parts = []
    if match.missing_themes:
        parts.append("themes: " + theme_labels(dataset, match.missing_themes))
    if match.missing_keywords:
        parts.append("terms: " + ", ".join(match.missing_keywords[:4]))
    if match.competitors:
        parts.append("competes with " + ", ".join(c.name for c in match.competitors))
    return "; ".join(parts) or "weak text evidence"


def render_cohort(cohort: Cohort, engine: Engine, console: Console) -> None:
    """The chosen promotion, what each member serves and adds, and what stays uncovered."""
    dataset = engine.dataset
    console.print(
        Text(
            f"Promotion of {len(cohort.enterprises)}: objective "
            f"{cohort.objective:.3f} ({cohort.method})",
            style="bold",
        )
    )
    table = _report_table()
    table.add_column("Enterprise", max_width=24)
    table.add_column("Adds", justify="right", no_wrap=True)
    table.add_column("Needs it serves best", max_width=44)
    scores = {(a.need_id, a.enterprise_id): a.score for a in cohort.assignments}
    for member in cohort.enterprises:
        enterprise = dataset.enterprise_by_id[member.enterprise_id]
        who = Text(enterprise.name)
        who.append(f"\n{enterprise.origin}", style="dim")
        served = Text()
        for need_id in member.needs:
            need = dataset.need_by_id[need_id]
            served.append(f"{need.title} ({scores[(need_id, member.enterprise_id)]:.1f})\n")
        served.rstrip()
        table.add_row(
            who,
            f"{member.marginal:.3f}",
            served if member.needs else Text("none above the cover threshold", style="dim"),
        )
    console.print(table)
    console.print(
        Text(
            "Adds: how much the objective drops without it. Objective: sum over "
            "needs of priority weight (1-3) x best chosen score / 100.",
            style="dim",
        )
    )
    if cohort.uncovered:
        console.print(
            Text(
                f"Needs left uncovered (best chosen score below {cohort.cover_threshold:g}):",
                style="bold",
            )
        )
        best = {a.need_id: a.score for a in cohort.assignments}
        for need_id in cohort.uncovered:
            score = f", best {best[need_id]:.1f}" if need_id in best else ""
            console.print(f"  {dataset.need_by_id[need_id].title} [{need_id}{score}]")


def render_themes(themes: Sequence[Theme], version: str, console: Console) -> None:
    """The themes as a tree (indented ids), with their labels and aliases."""
    from implant_match.taxonomy import theme_tree

    table = Table(header_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("Theme", no_wrap=True)
    table.add_column("Label")
    table.add_column("Aliases")
    rows = theme_tree(themes)
    for depth, theme in rows:
        table.add_row("  " * depth + theme.id, theme.label, ", ".join(theme.aliases))
    console.print(table)
    console.print(f"{len(rows)} theme{'s' * (len(rows) != 1)} (shipped taxonomy {version})")
