"""Messages as data: an English template and its parameters, worded by the output layer.

The engine's stages (loading, validation, lexicon, ranking) say what went wrong with a
template marked for translation (``N_("unknown theme '{theme}'")``) and the values to put
in it. The library and the machine outputs read the English text; the output layer asks
the catalog for the template in the user's language and fills in the same values. A value
may itself be a :class:`Phrase` (a fragment such as " in need 'x'"), worded the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Translate = Callable[[str], str]


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it here."""
    return message


def _identity(message: str) -> str:
    return message


@dataclass(frozen=True)
class Phrase:
    """A fragment of a message: an English template and the values it is filled with."""

    template: str
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, template: str, **params: Any) -> Phrase:
        return cls(template, tuple(params.items()))

    def render(self, translate: Translate = _identity) -> str:
        return fill(self.template, dict(self.params), translate)

    def __str__(self) -> str:
        return self.render()


def fill(template: str, params: Mapping[str, Any] | None, translate: Translate = _identity) -> str:
    """``template`` in the language of ``translate``, with ``params`` put in (phrases worded
    the same way). Without ``params`` the template is a finished message: only translated."""
    if not params:
        return translate(template)
    values = {
        name: value.render(translate) if isinstance(value, Phrase) else value
        for name, value in params.items()
    }
    return translate(template).format(**values)
