"""Named errors, located problems and the exit codes the CLI maps them to.

Only the CLI turns these into exit codes; the library raises and returns them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal

from implant_match.messages import N_, Phrase, Translate, fill


class ExitCode(IntEnum):
    """Exit codes of every ``implant-match`` command (documented in the README)."""

    OK = 0
    DATA_ERROR = 1  # invalid, unreadable or unwritable data; --strict warnings
    USAGE_ERROR = 2  # bad options or arguments
    INTERNAL_ERROR = 3  # a bug: please report it


Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One located finding about a data file, printed as ``path:line:col: severity: message``.

    Given ``params``, ``message`` and ``hint`` are English templates (marked ``N_()``):
    the problem keeps them as ``template`` and ``hint_template`` and holds the filled-in
    English text in ``message`` and ``hint``, which the library and the machine outputs
    read; the output layer words the templates in the user's language (:meth:`text`).
    """

    path: str
    line: int  # 1-based; 0 when the problem concerns the whole file
    column: int  # 1-based; 0 when unknown
    severity: Severity = field(compare=False)
    message: str = field(compare=False)
    hint: str | None = field(default=None, compare=False)
    params: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    template: str | None = field(default=None, compare=False, repr=False)
    hint_template: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.params is not None and self.template is None:
            object.__setattr__(self, "template", self.message)
            object.__setattr__(self, "message", fill(self.message, self.params))
            if self.hint is not None:
                object.__setattr__(self, "hint_template", self.hint)
                object.__setattr__(self, "hint", fill(self.hint, self.params))

    def text(self, translate: Translate) -> tuple[str, str | None]:
        """The message and hint in the language of ``translate``."""
        message = fill(self.template or self.message, self.params, translate)
        hint_source = self.hint_template or self.hint
        hint = None if hint_source is None else fill(hint_source, self.params, translate)
        return message, hint

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format(self) -> str:
        """The one-line form editors and CI logs understand."""
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        text = f"{where}: {self.severity}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return one_line(text)


def one_line(text: str) -> str:
    """Escape line breaks and control characters, so a report keeps one problem a line."""
    return "".join(c if c.isprintable() or c in _SPACES else repr(c)[1:-1] for c in text)


_SPACES = " \u00a0\u202f"  # French typography puts no-break spaces before : ; ? !


def shown_id(text: str) -> str:
    """An id as a message shows it: non-ASCII characters escaped (``solid\\u0430ires``).

    Ids are ASCII slugs; one typed with a lookalike (a Cyrillic ``а`` for a Latin ``a``)
    would otherwise read exactly as the valid id it is compared with.
    """
    if text.isascii():
        return text
    return "".join(
        c if c.isascii() else f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"
        for c in text
    )


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Sort by file, line, column, then errors before warnings, then message."""
    return sorted(
        problems,
        key=lambda p: (p.path, p.line, p.column, p.severity != "error", p.message),
    )


class ImplantMatchError(Exception):
    """Root of every error the tool raises on purpose.

    Given ``params``, ``message`` and ``hint`` are English templates (see :class:`Problem`):
    ``str(error)`` is the English text, :meth:`text` words it in the reader's language.
    """

    exit_code: ExitCode = ExitCode.DATA_ERROR

    def __init__(
        self, message: str, hint: str | None = None, params: Mapping[str, Any] | None = None
    ) -> None:
        self.template, self.hint_template, self.params = message, hint, params
        self.message = fill(message, params) if params is not None else message
        self.hint = fill(hint, params) if params is not None and hint is not None else hint
        super().__init__(self.message if self.hint is None else f"{self.message} ({self.hint})")

    def text(self, translate: Translate) -> str:
        """The message (and its hint) in the language of ``translate``."""
        message = fill(self.template, self.params, translate)
        if self.hint_template is None:
            return message
        return f"{message} ({fill(self.hint_template, self.params, translate)})"


class DataError(ImplantMatchError):
    """Data that cannot be used: carries every located problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sort_problems(problems)
        errors = [p for p in self.problems if p.is_error]
        first = errors[0].format() if errors else "invalid data"
        super().__init__(first)


class UsageError(ImplantMatchError):
    """An option or argument that makes no sense (unknown id, bad weight name...)."""

    exit_code = ExitCode.USAGE_ERROR


class UnknownIdError(UsageError):
    """An id given on the command line that the data does not hold."""


class ExportError(ImplantMatchError):
    """An export that could not be written (folder, permissions, disk)."""


class OutputError(ImplantMatchError):
    """Standard output that cannot be written (closed, disk full, I/O error)."""


class WorkerError(ImplantMatchError):
    """A worker process that ended without sending its result (killed, out of memory...)."""

    exit_code = ExitCode.INTERNAL_ERROR


def closest(word: str, choices: object) -> str | None:
    """The valid choice nearest to a mistyped ``word``, for "did you mean ...?" hints."""
    from rapidfuzz import process, utils

    options = [c for c in choices if isinstance(c, str)]  # type: ignore[attr-defined]
    if not options or not word:
        return None
    found = process.extractOne(
        word,
        options,
        scorer=_suggestion_score,
        processor=utils.default_process,
        score_cutoff=60,
    )
    return found[0] if found else None


def _suggestion_score(word: str, choice: str, **kwargs: object) -> float:
    """Edit similarity, or a slightly discounted partial match ('lyon' in 'metropole-lyon')."""
    from rapidfuzz import fuzz

    partial = fuzz.partial_ratio(word, choice) * 0.9 if len(word) >= 4 else 0.0
    return max(fuzz.ratio(word, choice), partial)


def did_you_mean(word: str, choices: object) -> str:
    """``"; did you mean 'x'?"`` or an empty string."""
    match = closest(word, choices)
    return f"; did you mean '{match}'?" if match and match != word else ""


def suggestion(word: str, choices: object) -> Phrase | str:
    """:func:`did_you_mean` as a phrase the output layer can word in the user's language."""
    match = closest(word, choices)
    if match and match != word:
        return Phrase.of(N_("; did you mean '{match}'?"), match=match)
    return ""
