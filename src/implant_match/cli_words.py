"""The command line's own words in the reader's language: help texts, and what typer's
bundled click writes (``Usage:``, ``Error:``, ``Try ... --help``, its usage errors, the
value names of ``--help``).

That click writes fixed English f-strings, not ``gettext`` calls, so its words are put in
at the three places it lets a program in: the command group (:class:`WordedGroup`, given
to ``typer.Typer(cls=...)``) chooses the language of a run from its arguments before
parsing them and says click's usage errors again in that language; its contexts format
help with :class:`WordedFormatter`; and the value names shown by ``--help`` are set on the
options. Part of the CLI layer, with ``cli.py``: nothing else imports it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import IO, Any, get_args, get_origin

import typer
import typer.core
from typer._click import exceptions as click_errors
from typer._click.formatting import HelpFormatter
from typer._click.utils import echo

from implant_match.errors import UsageError
from implant_match.i18n import DEFAULT_LANGUAGE, Language, language, resolve_language
from implant_match.messages import N_

# Words typer writes in help pages and usage errors through gettext: in the catalog too.
_TYPER_WORDS = (
    N_("Arguments"),
    N_("Options"),
    N_("Commands"),
    N_("default: {default}"),
    N_("required"),
    N_("env var: {var}"),
    N_("(dynamic)"),
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("Aborted!"),
    N_("Show this message and exit."),
)

# Value names of options in --help, by the Python type of the value (typer's own are the
# type's name: <str>, <int range>, <list[Path]>).
_VALUE_NAMES = {
    "Path": N_("<path>"),
    "int": N_("<integer>"),
    "float": N_("<number>"),
    "str": N_("<text>"),
}

# Names of the commands' arguments in usage lines and --help (typer's own are the
# parameters' names between braces: {enterprise} {need}).
_ARGUMENT_NAMES = {
    "enterprise": N_("ENTERPRISE"),
    "need": N_("NEED"),
    "path": N_("FILE"),
    "kind": N_("KIND"),
    "word": N_("WORD"),
    "folder": N_("FOLDER"),
    "spreadsheet": N_("SPREADSHEET"),
}

# click's usage errors that carry only their English sentence: the sentence as a pattern,
# and the template it is said again with (values quoted the reader's way).
_SENTENCES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"Option '(?P<name>.+)' requires an argument\."),
        N_("Option {name} requires a value."),
    ),
    (
        re.compile(r"Option '(?P<name>.+)' does not take a value\."),
        N_("Option {name} does not take a value."),
    ),
    (
        re.compile(r"Got unexpected extra argument\(s\) \((?P<args>.*)\)"),
        N_("Got unexpected extra argument(s) ({args})"),
    ),
    (
        re.compile(r"Argument '(?P<name>.+)' takes (?P<count>\d+) values\."),
        N_("Argument {name} takes {count} values."),
    ),
)
_SUGGESTED = re.compile(r"(?P<message>.*)\. Did you mean (?P<suggestions>.*)\?", re.DOTALL)

_spoken: list[Language] = []  # the language of this run, once chosen


def words() -> Language:
    """The language of this run's command-line words (French until one is chosen)."""
    return _spoken[-1] if _spoken else language(DEFAULT_LANGUAGE)


def language_of(args: Sequence[str]) -> Language:
    """The language of a run: its ``--lang`` (a cheap look at the arguments, so that a
    usage error met before ``--lang`` is parsed is said in it), else ``$IMPLANT_MATCH_LANG``,
    else the locale, else French. A bad value is left for the command to report."""
    given: str | None = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args):
            given = args[i + 1]
        elif arg.startswith("--lang="):
            given = arg.partition("=")[2]
    for explicit in (given, None):
        try:
            return language(resolve_language(explicit))
        except UsageError:
            continue
    return language(DEFAULT_LANGUAGE)


def localise_help(command: Any, code: str) -> Any:
    """Put the help texts of a click ``command`` and of its subcommands in language ``code``.

    Help texts are written in English in ``cli.py`` and translated by the catalog; the
    English originals are kept on the objects, so a command can be switched again (by its
    own ``--lang``) before its help is printed.
    """
    spoken = language(code)
    _spoken[:] = [spoken]
    setattr(typer.core, "_", spoken.gettext)  # noqa: B010 - typer's gettext, on purpose
    todo = [command]
    while todo:
        current = todo.pop()
        if isinstance(current, typer.core.TyperGroup):
            current.subcommand_metavar = spoken.gettext("COMMAND [ARGS]...")
        for item in (current, *current.params, *_help_option(current)):
            for attribute in ("help", "short_help"):
                original = _original(item, attribute)
                if original:
                    setattr(item, attribute, spoken.gettext(original))
            if isinstance(item, typer.core.TyperOption) and _original(item, "metavar") is None:
                name = _value_name(item)
                item.metavar = spoken.gettext(name) if name else None
            if isinstance(item, typer.core.TyperArgument):
                _name_argument(item, spoken)
        todo.extend(getattr(current, "commands", {}).values())  # a group's subcommands
    return command


def _name_argument(argument: typer.core.TyperArgument, spoken: Language) -> None:
    """An argument's name (``ENTREPRISE``) and value (``<texte>``) in the reader's words."""
    name = _ARGUMENT_NAMES.get(argument.name or "")
    if name is not None:
        argument.metavar = spoken.gettext(name)
    value = _value_name(argument)
    if value is not None:
        shown = spoken.gettext(value)

        def display(ctx: Any = None) -> str:
            return shown

        # typer shows an argument's value as its type's name (<str>); this one instead
        argument.display_type_rich = display  # type: ignore[method-assign]


def _value_name(option: typer.core.TyperOption | typer.core.TyperArgument) -> str | None:
    """``<path>``, ``<integer>``...: the value a parameter takes, None to keep typer's."""
    if getattr(option, "is_flag", False) or getattr(option, "count", False):
        return None
    descriptor = option.type_descriptor
    if descriptor.is_choice:
        return None  # typer lists the choices: <table|json>
    annotation: Any = descriptor.annotation
    if get_origin(annotation) is list:
        annotation = get_args(annotation)[0]
    return _VALUE_NAMES.get(getattr(annotation, "__name__", ""))


def _help_option(command: Any) -> list[Any]:
    """The ``--help`` option click adds to ``command`` (made now, so it can be translated)."""
    try:
        option = command.get_help_option(typer.Context(command))
    except Exception:  # a command shape this click does not know: its help stays English
        return []
    return [option] if option is not None else []


def _original(item: object, attribute: str) -> Any:
    """The English value of ``item.attribute``, remembered the first time it is asked."""
    key = f"_english_{attribute}"
    if not hasattr(item, key):
        setattr(item, key, getattr(item, attribute, None))
    return getattr(item, key)


class WordedFormatter(HelpFormatter):
    """click's help formatter, its ``Usage:`` in the reader's language."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None:
            prefix = words().gettext("Usage: ")
        super().write_usage(prog, args, prefix)


class WordedContext(typer.Context):
    formatter_class = WordedFormatter


class WordedUsageError(click_errors.UsageError):
    """A usage error of click, said again in the reader's language."""

    def __init__(self, error: click_errors.UsageError) -> None:
        super().__init__(usage_message(error, words()), error.ctx)
        self.exit_code = error.exit_code

    def show(self, file: IO[Any] | None = None) -> None:
        said = words()
        if self.ctx is not None:
            hint = ""
            if self.ctx.command.get_help_option(self.ctx) is not None:
                hint = said.gettext("Try '{command} {option}' for help.").format(
                    command=self.ctx.command_path, option=self.ctx.help_option_names[0]
                )
            echo(f"{self.ctx.get_usage()}\n{hint}\n", file=file, err=True, color=self.ctx.color)
        echo(said.gettext("Error: {message}").format(message=self.message), file=file, err=True)


class WordedGroup(typer.core.TyperGroup):
    """The command group, its words (and its subcommands') in the language of the run."""

    context_class = WordedContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            command.context_class = WordedContext

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Any = None,
        **extra: Any,
    ) -> Any:
        if parent is None:  # the run starts here: its language, before any parsing
            localise_help(self, language_of(args).code)
        return _worded(super().make_context, info_name, args, parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        return _worded(super().invoke, ctx)


def _worded(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except (click_errors.NoArgsIsHelpError, WordedUsageError):
        raise
    except click_errors.UsageError as exc:
        raise WordedUsageError(exc) from exc


def usage_message(error: click_errors.UsageError, said: Language) -> str:
    """What click's ``error`` says, in the language of ``said`` (its English when it is a
    sentence this module does not know)."""
    gettext = said.gettext
    if isinstance(error, click_errors.NoSuchOption):
        text = gettext("No such option: {option}").format(option=error.option_name)
        if error.possibilities:
            possible = ", ".join(sorted(error.possibilities))
            text = gettext("{message} (Possible options: {options})").format(
                message=text, options=possible
            )
        return text
    if isinstance(error, click_errors.MissingParameter):
        kind = error.param_type or (error.param.param_type_name if error.param else "")
        template = {
            "option": N_("Missing option {name}."),
            "argument": N_("Missing argument {name}."),
        }.get(kind, N_("Missing parameter {name}."))
        return gettext(template).format(name=_names(error, said))
    if isinstance(error, click_errors.BadParameter):
        return gettext("Invalid value for {name}: {reason}").format(
            name=_names(error, said), reason=_reason(error, said)
        )
    return _sentence(error.message, said)


def _quoted(name: str, said: Language) -> str:
    return said.gettext("'{name}'").format(name=name)


def _names(error: click_errors.BadParameter, said: Language) -> str:
    """The option's names (``'--jobs' / '-j'``) or the argument's, quoted."""
    param = error.param
    if error.param_hint is not None:
        hints = [error.param_hint] if isinstance(error.param_hint, str) else error.param_hint
        return " / ".join(_quoted(h.strip("'"), said) for h in hints)
    if param is None:
        return ""
    if isinstance(param, typer.core.TyperArgument) and param.metavar:
        return _quoted(param.metavar, said)  # as --help names it
    names = list(getattr(param, "opts", None) or [param.name or ""])
    return " / ".join(_quoted(n, said) for n in names)


def _reason(error: click_errors.BadParameter, said: Language) -> str:
    """Why a value was refused, from the check that refused it (typer checks values with
    pydantic), else click's English."""
    cause = error.__cause__
    found = getattr(cause, "errors", None)
    if not callable(found):
        return error.message
    first = found()[0] if found() else {}
    kind, value, limits = first.get("type"), first.get("input"), first.get("ctx") or {}
    gettext = said.gettext
    if kind == "int_parsing":
        return gettext("'{value}' is not a whole number").format(value=value)
    if kind == "float_parsing":
        return gettext("'{value}' is not a number").format(value=value)
    for key, template in (
        ("ge", N_("{value} is below the minimum, {limit}")),
        ("gt", N_("{value} is not above {limit}")),
        ("le", N_("{value} is above the maximum, {limit}")),
        ("lt", N_("{value} is not below {limit}")),
    ):
        if key in limits and kind and kind.startswith(("greater", "less")):
            return gettext(template).format(value=value, limit=_plain(limits[key]))
    param = error.param
    descriptor = getattr(param, "type_descriptor", None)
    if kind == "value_error" and descriptor is not None and descriptor.is_choice:
        choices = ", ".join(str(getattr(c, "value", c)) for c in descriptor.choices or ())
        return gettext("'{value}' is not one of {choices}").format(value=value, choices=choices)
    return error.message


def _plain(number: object) -> object:
    """``100`` for a limit of ``100.0``: a bound as people write it."""
    return int(number) if isinstance(number, float) and number.is_integer() else number


def _sentence(message: str, said: Language) -> str:
    """One of click's English sentences said again (a typer suggestion kept after it)."""
    suggested = _SUGGESTED.fullmatch(message)
    if suggested:
        return said.gettext("{message}. Did you mean {suggestions}?").format(
            message=_sentence(suggested["message"], said),
            suggestions=", ".join(
                _quoted(s.strip().strip("'"), said) for s in suggested["suggestions"].split(",")
            ),
        )
    for pattern, template in _SENTENCES:
        found = pattern.fullmatch(message)
        if found:
            values = {
                k: _quoted(v, said) if k == "name" else v for k, v in found.groupdict().items()
            }
            return said.gettext(template).format(**values)
    return message
