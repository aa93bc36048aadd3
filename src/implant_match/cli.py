"""The ``implant-match`` command line: options in, one library call, a renderer out.

This is the only module that imports typer, and the only one that maps errors to exit
codes. Heavy modules (pydantic, numpy, rapidfuzz, rich) are imported inside the commands,
so ``--help`` and ``--version`` start at once.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from implant_match import __version__
from implant_match.errors import DataError, ExitCode, ImplantMatchError, UsageError
from implant_match.i18n import N_

if TYPE_CHECKING:
    from rich.console import Console

    from implant_match.i18n import Language
    from implant_match.ranking import Engine, RankOptions

app = typer.Typer(
    name="implant-match",
    help="Match social enterprises proven elsewhere with the needs of a territory, and say why.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

_state = {"debug": False}
F = TypeVar("F", bound=Callable[..., Any])


def localise_help(command: Any, code: str) -> Any:
    """Put the help texts of a click ``command`` and of its subcommands in language ``code``.

    Help texts are written in English in this module and translated by the catalog; the
    English originals are kept on the objects, so a command can be switched again (by its
    own ``--lang``) before its help is printed.
    """
    from implant_match.i18n import language

    words = language(code)
    todo = [command]
    while todo:
        current = todo.pop()
        for item in (current, *current.params):
            for attribute in ("help", "short_help"):
                original = _original(item, attribute)
                if original:
                    setattr(item, attribute, words.gettext(original))
        todo.extend(getattr(current, "commands", {}).values())  # a group's subcommands
    return command


def _original(item: object, attribute: str) -> str | None:
    """The English text of ``item.attribute``, remembered the first time it is asked."""
    key = f"_english_{attribute}"
    if not hasattr(item, key):
        setattr(item, key, getattr(item, attribute, None))
    text: str | None = getattr(item, key)
    return text


def _lang_callback(ctx: typer.Context, value: str | None) -> str | None:
    """``--lang`` is read before ``--help`` when it comes first: help in that language."""
    if value and not ctx.resilient_parsing:
        from implant_match.i18n import resolve_language

        with contextlib.suppress(UsageError):  # said by the command, exit code 2
            localise_help(ctx.command, resolve_language(value))
    return value


LangOpt = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help=N_(
            "Language of what people read: fr or en "
            "[default: $IMPLANT_MATCH_LANG, else the locale, else fr]."
        ),
        is_eager=True,
        callback=_lang_callback,
        show_default=False,
    ),
]


def _words(lang: str | None) -> Language:
    """The language of this run's human output (``--lang``, environment, locale)."""
    from implant_match.i18n import language, resolve_language

    return language(resolve_language(lang))


NeedsOpt = Annotated[
    Path | None,
    typer.Option(
        "--needs",
        help="needs.yaml to read [default: ./data/needs.yaml, else the bundled copy]",
        dir_okay=True,
        show_default=False,
    ),
]
EnterprisesOpt = Annotated[
    Path | None,
    typer.Option(
        "--enterprises",
        help="enterprises.yaml to read [default: ./data/enterprises.yaml, else the bundled copy]",
        show_default=False,
    ),
]
LexiconOpt = Annotated[
    Path | None,
    typer.Option(
        "--lexicon",
        help="Project lexicon extending the shipped one [default: lexicon.yaml beside "
        "the needs file, if any]",
        show_default=False,
    ),
]
WeightsOpt = Annotated[
    Path | None,
    typer.Option(
        "--weights",
        help="YAML file of weights (themes, text, keywords, complementarity).",
        show_default=False,
    ),
]
WeightOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--weight",
        help="Override one weight for this run, e.g. --weight themes=0.5 (repeatable).",
        show_default=False,
    ),
]
NeedOpt = Annotated[
    list[str] | None,
    typer.Option("--need", help="Only this need (repeatable).", show_default=False),
]
TerritoryOpt = Annotated[
    str | None,
    typer.Option("--territory", help="Only the needs of this territory.", show_default=False),
]
ThemeOpt = Annotated[
    str | None,
    typer.Option(
        "--theme", help="Only the needs with this theme (or a narrower one).", show_default=False
    ),
]
EnterpriseOpt = Annotated[
    str | None,
    typer.Option(
        "--enterprise",
        help="Flip the view: the needs this enterprise fits best.",
        show_default=False,
    ),
]
TopOpt = Annotated[int, typer.Option("--top", min=1, help="Candidates kept per need.")]
MinScoreOpt = Annotated[
    float, typer.Option("--min-score", min=0, max=100, help="Drop pairs scoring below this.")
]
StabilityOpt = Annotated[
    bool,
    typer.Option(
        "--stability/--no-stability", help="Measure how each pair resists +/-20 % weight changes."
    ),
]
JobsOpt = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=0,
        help="Processes for large rankings (Linux): 0 = one per CPU, 1 = this one only "
        "[default: $IMPLANT_MATCH_JOBS, else 0]",
        show_default=False,
    ),
]


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


class ProblemFormat(str, Enum):
    text = "text"
    github = "github"
    json = "json"


def _console(stderr: bool = False) -> Console:
    # data is shown as written: no markup, no ":emoji:" codes, no guessed highlighting
    return _console_class()(
        stderr=stderr, highlight=False, soft_wrap=False, markup=False, emoji=False
    )


@functools.cache
def _console_class() -> type[Console]:
    from rich.console import Console

    class QuietConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich exits with 1 (our "invalid data") when the reader, such as `head`, has
            # gone; handle_errors ends quietly with 0 instead, as for plain output
            self.quiet = True
            raise BrokenPipeError

    return QuietConsole


def _fail(problems_or_message: Any, code: ExitCode) -> None:
    if isinstance(problems_or_message, DataError):
        from implant_match.render import render_problems

        render_problems(problems_or_message.problems, _console(stderr=True))
    else:  # plain echo: a message is one line, whatever the terminal's width
        from implant_match.errors import one_line

        typer.echo(f"error: {one_line(str(problems_or_message))}", err=True)
    raise typer.Exit(int(code))


def handle_errors(command: F) -> F:
    """Map the tool's errors to messages and exit codes; anything else is a bug (exit 3)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except DataError as exc:
            _fail(exc, ExitCode.DATA_ERROR)
        except UsageError as exc:
            _fail(str(exc), ExitCode.USAGE_ERROR)
        except ImplantMatchError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _console(stderr=True).print("interrupted")
            raise typer.Exit(130) from None
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(int(ExitCode.OK)) from None
        except Exception as exc:
            if _state["debug"]:
                raise
            _fail(
                f"internal error: {type(exc).__name__}: {exc} (run with --debug for the "
                "traceback, and please report it)",
                ExitCode.INTERNAL_ERROR,
            )
        return None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"implant-match {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
) -> None:
    """Match social enterprises proven elsewhere with the needs of a territory, and say why.

    Exit codes: 0 ok, 1 invalid or unreadable data, 2 usage error, 3 internal error.
    """
    _state["debug"] = debug


def _engine(
    needs: Path | None, enterprises: Path | None, lexicon: Path | None, jobs: int | None = None
) -> Engine:
    """The analysed data; ``jobs`` None: as many processes as $IMPLANT_MATCH_JOBS or the
    CPUs allow (a bad $IMPLANT_MATCH_JOBS is said only by the commands that rank in
    workers: the others then use this process alone)."""
    from implant_match.runtime import resolve_jobs
    from implant_match.session import open_engine

    if jobs is None:
        try:
            jobs = resolve_jobs(None)
        except UsageError:
            jobs = 1
    return open_engine(needs, enterprises, lexicon, jobs=jobs)


def _rank_options(
    weights_file: Path | None,
    weight: list[str] | None,
    need: list[str] | None,
    territory: str | None,
    theme: str | None,
    enterprise: str | None,
    top: int,
    min_score: float,
    stability: bool,
) -> RankOptions:
    from implant_match.api import rank_options
    from implant_match.weights import load_weights

    return rank_options(
        need=need,
        territory=territory,
        theme=theme,
        enterprise=enterprise,
        top=top,
        min_score=min_score,
        weights=load_weights(weights_file, weight),
        stability=stability,
    )


@app.command()
@handle_errors
def validate(
    needs: NeedsOpt = None,
    enterprises: EnterprisesOpt = None,
    lexicon: LexiconOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    output: Annotated[
        ProblemFormat,
        typer.Option("--format", help="text; github (adds ::error annotations); json."),
    ] = ProblemFormat.text,
    lang: LangOpt = None,
) -> None:
    """Check both data files (and a project lexicon): every problem, one per line."""
    _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.dataset import inspect_files, lexicon_file, resolve_paths
    from implant_match.errors import sort_problems
    from implant_match.render import render_problems

    paths = resolve_paths(needs, enterprises)
    problems = sort_problems(inspect_files(paths, lexicon_file(paths, lexicon)).problems)
    failed = any(p.is_error for p in problems) or (strict and bool(problems))
    if output is ProblemFormat.json:
        import json

        typer.echo(
            json.dumps(
                {
                    "valid": not failed,
                    "files": [paths.needs_display, paths.enterprises_display],
                    "errors": sum(p.is_error for p in problems),
                    "warnings": sum(not p.is_error for p in problems),
                    "problems": [
                        {
                            "path": p.path,
                            "line": p.line,
                            "column": p.column,
                            "severity": p.severity,
                            "message": p.message,
                            "hint": p.hint,
                        }
                        for p in problems
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        render_problems(problems, _console())
        if output is ProblemFormat.github:
            for p in problems:
                typer.echo(github_annotation(p))
    raise typer.Exit(int(ExitCode.DATA_ERROR if failed else ExitCode.OK))


def github_annotation(problem: Any) -> str:
    """A GitHub Actions workflow command, escaped as the runner expects."""

    def data(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(text: str) -> str:
        return data(text).replace(":", "%3A").replace(",", "%2C")

    level = "error" if problem.is_error else "warning"
    message = problem.message + (f" ({problem.hint})" if problem.hint else "")
    where = f"file={prop(problem.path)}"
    if problem.line:
        where += f",line={problem.line}"
        if problem.column:
            where += f",col={problem.column}"
    return f"::{level} {where}::{data(message)}"


@app.command()
@handle_errors
def rank(
    needs: NeedsOpt = None,
    enterprises: EnterprisesOpt = None,
    lexicon: LexiconOpt = None,
    weights: WeightsOpt = None,
    weight: WeightOpt = None,
    need: NeedOpt = None,
    territory: TerritoryOpt = None,
    theme: ThemeOpt = None,
    enterprise: EnterpriseOpt = None,
    top: TopOpt = 5,
    min_score: MinScoreOpt = 0.0,
    stability: StabilityOpt = True,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table or json.")
    ] = OutputFormat.table,
    jobs: JobsOpt = None,
    lang: LangOpt = None,
) -> None:
    """Rank enterprises for each need (grouped by territory, then priority)."""
    _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.runtime import resolve_jobs

    workers = resolve_jobs(jobs)
    engine = _engine(needs, enterprises, lexicon, workers)
    options = _rank_options(
        weights, weight, need, territory, theme, enterprise, top, min_score, stability
    )
    if output is OutputFormat.json:
        from implant_match.export import json_array, json_items, json_records

        pieces = engine.rank_parts(options, lambda part: json_items(json_records(part)), workers)
        sys.stdout.writelines(json_array(pieces))
        return
    from implant_match.render import render_shortlist

    render_shortlist(engine.rank(options, workers), engine, _console())


@app.command()
@handle_errors
def explain(
    enterprise: Annotated[str, typer.Argument(help="Enterprise id.")],
    need: Annotated[str, typer.Argument(help="Need id.")],
    needs: NeedsOpt = None,
    enterprises: EnterprisesOpt = None,
    lexicon: LexiconOpt = None,
    weights: WeightsOpt = None,
    weight: WeightOpt = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table or json.")
    ] = OutputFormat.table,
    lang: LangOpt = None,
) -> None:
    """Explain one enterprise's score for one need, part by part."""
    _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.api import explain as explain_pair
    from implant_match.weights import load_weights

    engine = _engine(needs, enterprises, lexicon)
    explanation = explain_pair(engine, enterprise, need, load_weights(weights, weight))
    if output is OutputFormat.json:
        from implant_match.export import dumps

        sys.stdout.write(dumps(explanation.to_dict()))
        return
    from implant_match.render import render_explanation

    render_explanation(explanation.result, engine, _console())


@app.command()
@handle_errors
def export(
    path: Annotated[
        str,
        typer.Argument(help="Output file: .csv, .json or .xlsx; '-' for CSV on standard output."),
    ],
    needs: NeedsOpt = None,
    enterprises: EnterprisesOpt = None,
    lexicon: LexiconOpt = None,
    weights: WeightsOpt = None,
    weight: WeightOpt = None,
    need: NeedOpt = None,
    territory: TerritoryOpt = None,
    theme: ThemeOpt = None,
    enterprise: EnterpriseOpt = None,
    top: TopOpt = 5,
    min_score: MinScoreOpt = 0.0,
    stability: StabilityOpt = True,
    dialect: Annotated[
        str,
        typer.Option(
            "--dialect",
            help="CSV dialect: excel-fr (UTF-8 with BOM, ';', decimal comma, CRLF) "
            "or rfc4180 (UTF-8, ',', decimal point).",
        ),
    ] = "excel-fr",
    jobs: JobsOpt = None,
    lang: LangOpt = None,
) -> None:
    """Write the shortlist `rank` would show to a CSV, JSON or Excel file."""
    _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.export import exporter_for
    from implant_match.runtime import resolve_jobs

    exporter_for(path)  # an unknown extension is a usage error before any work
    workers = resolve_jobs(jobs)
    engine = _engine(needs, enterprises, lexicon, workers)
    options = _rank_options(
        weights, weight, need, territory, theme, enterprise, top, min_score, stability
    )
    shortlist = engine.rank(options, workers)
    from implant_match.export import export as write_export

    names = {e.id: (e.name, e.origin) for e in engine.dataset.enterprises}
    count = write_export(shortlist, path, dialect, names, options.weights.normalised())
    shown = "standard output" if path == "-" else path
    fmt = Path(path).suffix.lstrip(".").lower() if path != "-" else "csv"
    detail = f", dialect {dialect}" if fmt == "csv" else ""
    typer.echo(f"wrote {count} row{'s' * (count != 1)} to {shown} ({fmt}{detail})", err=True)


REPORT_SUFFIXES = (".html", ".htm")


@app.command()
@handle_errors
def report(
    path: Annotated[
        Path,
        typer.Argument(help="Output file (.html): open it in a browser, print it to PDF."),
    ],
    needs: NeedsOpt = None,
    enterprises: EnterprisesOpt = None,
    lexicon: LexiconOpt = None,
    weights: WeightsOpt = None,
    weight: WeightOpt = None,
    need: NeedOpt = None,
    territory: TerritoryOpt = None,
    theme: ThemeOpt = None,
    top: TopOpt = 5,
    min_score: MinScoreOpt = 0.0,
    stability: StabilityOpt = True,
    cohort_size: Annotated[
        int | None,
        typer.Option(
            "--cohort",
            min=1,
            metavar="K",
            help="Add the proposed promotion of K enterprises (as `cohort --size K`).",
            show_default=False,
        ),
    ] = None,
    jobs: JobsOpt = None,
    lang: LangOpt = None,
) -> None:
    """Write a committee dossier: one HTML page per need, a heat map, the gaps."""
    words = _words(lang)  # a bad --lang is a usage error before any work
    suffix = path.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        hint = (
            "write PATH.html and print it to PDF from a browser (see docs/report.md)"
            if suffix == ".pdf"
            else "give a file name ending in .html"
        )
        raise UsageError(f"cannot write a report as '{path.suffix or path.name}'", hint)
    from implant_match.dossier import build_report, data_files
    from implant_match.dossier_html import render_report, write_report
    from implant_match.runtime import resolve_jobs

    workers = resolve_jobs(jobs)
    engine = _engine(needs, enterprises, lexicon, workers)
    options = _rank_options(
        weights, weight, need, territory, theme, None, top, min_score, stability
    )
    dossier = build_report(
        engine,
        options,
        cohort_size=cohort_size,
        files=data_files(needs, enterprises, lexicon),
        jobs=workers,
    )
    write_report(render_report(dossier, words), path)
    count = len(dossier.sections)
    typer.echo(f"wrote a report of {count} need{'s' * (count != 1)} to {path}", err=True)


@app.command()
@handle_errors
def schema(
    kind: Annotated[str, typer.Argument(help="needs, enterprises, lexicon or weights.")],
    lang: LangOpt = None,
) -> None:
    """Print the JSON Schema of a data file, generated from the models."""
    _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.schema import SCHEMAS, schema_text

    if kind not in SCHEMAS:
        from implant_match.errors import did_you_mean

        raise UsageError(
            f"unknown schema '{kind}'{did_you_mean(kind, SCHEMAS)}",
            f"choose one of {', '.join(SCHEMAS)}",
        )
    sys.stdout.write(schema_text(kind))


@app.command(name="lexicon")
@handle_errors
def lexicon_command(
    word: Annotated[
        str | None, typer.Argument(help="Show only groups containing this word.")
    ] = None,
    needs: NeedsOpt = None,
    lexicon: LexiconOpt = None,
    lang: LangOpt = None,
) -> None:
    """List the acronyms and synonym groups the engine knows."""
    _words(lang)  # a bad --lang is a usage error before any work
    from rich.table import Table

    from implant_match.dataset import lexicon_file, resolve_paths
    from implant_match.lexicon import load_lexicon

    groups = load_lexicon(lexicon_file(resolve_paths(needs, None), lexicon)).search(word)
    table = Table(header_style="bold")
    table.add_column("Group")
    table.add_column("Canonical form")
    table.add_column("Acronyms")
    table.add_column("Also written")
    for group in groups:
        table.add_row(
            group.id,
            group.canonical,
            ", ".join([*group.acronyms, *group.case_sensitive]),
            ", ".join(group.terms),
        )
    console = _console()
    console.print(table)
    console.print(f"{len(groups)} group{'s' * (len(groups) != 1)}")


def command() -> Any:
    """The command line as click runs it, its help in the language of the environment."""
    from implant_match.i18n import DEFAULT_LANGUAGE, resolve_language

    try:
        code = resolve_language()
    except UsageError:  # a bad $IMPLANT_MATCH_LANG: said by the command that reads it
        code = DEFAULT_LANGUAGE
    return localise_help(typer.main.get_command(app), code)


def main() -> None:
    """Console-script entry point."""
    # One command per process, over data without reference cycles: the cyclic collector
    # would only rescan an ever larger heap (about 0.5 s of a 1,000 x 10,000 ranking).
    # Library callers keep theirs; the heavy stages pause it themselves (runtime.paused_gc).
    gc.disable()
    try:
        command().main(prog_name="implant-match")
        code: object = 0
    except SystemExit as exc:  # how click ends every command
        code = exc.code
    _exit(code)


def _exit(code: object) -> NoReturn:
    """End the process at once, as ``sys.exit(code)`` would but without freeing every object.

    The command is done and its files are written (atomically); what is left is millions
    of objects of analysed data, which a normal exit frees one by one (about 0.3 s on
    10,000 enterprises). The standard streams are flushed first; mypy ends the same way.
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): the message on stderr, status 1
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        # the reader may be gone (a closed pipe) or the stream closed: nothing left to say
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


@app.command()
@handle_errors
def gaps(
    needs: NeedsOpt = None,
    enterprises: EnterprisesOpt = None,
    lexicon: LexiconOpt = None,
    weights: WeightsOpt = None,
    weight: WeightOpt = None,
    territory: TerritoryOpt = None,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            min=0,
            max=100,
            help="A need is a gap when its best candidate scores below this.",
        ),
    ] = 50.0,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table or json.")
    ] = OutputFormat.table,
    lang: LangOpt = None,
) -> None:
    """Needs still without a sufficient answer, and priority themes nobody covers."""
    _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.api import gaps as find_gaps
    from implant_match.weights import load_weights

    engine = _engine(needs, enterprises, lexicon)
    report = find_gaps(
        engine, territory=territory, threshold=threshold, weights=load_weights(weights, weight)
    )
    if output is OutputFormat.json:
        from implant_match.export import dumps

        sys.stdout.write(dumps(report.to_dict()))
        return
    from implant_match.render import render_gaps

    render_gaps(report, engine, _console())


@app.command()
@handle_errors
def cohort(
    size: Annotated[int, typer.Option("--size", min=1, help="How many enterprises to choose.")],
    needs: NeedsOpt = None,
    enterprises: EnterprisesOpt = None,
    lexicon: LexiconOpt = None,
    weights: WeightsOpt = None,
    weight: WeightOpt = None,
    territory: TerritoryOpt = None,
    include: Annotated[
        list[str] | None,
        typer.Option("--include", help="Always choose this enterprise (repeatable)."),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Never choose this enterprise (repeatable)."),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="auto (exact up to 200 candidates), exact or greedy.")
    ] = "auto",
    cover: Annotated[
        float,
        typer.Option(
            "--cover-threshold",
            min=0,
            max=100,
            help="A need counts as served when its best chosen score reaches this.",
        ),
    ] = 50.0,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table or json.")
    ] = OutputFormat.table,
    lang: LangOpt = None,
) -> None:
    """Choose the K enterprises (a promotion) that together serve the needs best."""
    _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.api import cohort as choose_cohort
    from implant_match.weights import load_weights

    engine = _engine(needs, enterprises, lexicon)
    result = choose_cohort(
        engine,
        size,
        territory=territory,
        include=include or (),
        exclude=exclude or (),
        method=method,
        cover_threshold=cover,
        weights=load_weights(weights, weight),
    )
    if output is OutputFormat.json:
        from implant_match.export import dumps

        sys.stdout.write(dumps(result.to_dict()))
        return
    from implant_match.render import render_cohort

    render_cohort(result, engine, _console())
