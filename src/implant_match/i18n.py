"""The languages people read: French by default, English on request.

Messages are written in English in the code, marked with ``_()`` / ``ngettext()`` (or
``N_()`` where a message is only named, to be translated later), extracted by Babel and
translated in the catalog ``locale/fr/LC_MESSAGES/implant_match.po``, which is read as it
is (no build step: Babel compiles it in memory on first use). Plural forms come from the
catalog's own rule, never from ``if n > 1``. Numbers are formatted with the language's
conventions (decimal comma and narrow no-break space in French) from Babel's CLDR data.

Only the output layer (``render``, ``export``, ``cli``) asks for a :class:`Language`; the
engine returns data and never words.
"""

from __future__ import annotations

import functools
import gettext
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from implant_match.errors import UsageError
from implant_match.messages import N_

__all__ = ["N_", "Language", "language", "resolve_language"]

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"  # the tool's users and data are French
LANG_ENV = "IMPLANT_MATCH_LANG"
DOMAIN = "implant_match"
LOCALE_DIR = Path(__file__).parent / "locale"
_LOCALE_ENV = ("LC_ALL", "LC_MESSAGES", "LANG")  # POSIX precedence, first set wins
_CLDR_LOCALE = {"fr": "fr_FR", "en": "en_GB"}


def resolve_language(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """``explicit`` (``--lang``), else ``$IMPLANT_MATCH_LANG``, else the locale
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``fr*`` French, ``en*`` English), else French.

    A language the tool does not speak, given explicitly, is a :class:`UsageError`; a
    locale in another language falls back to French.
    """
    env = os.environ if environ is None else environ
    for source, value in (("--lang", explicit), (LANG_ENV, env.get(LANG_ENV))):
        if value:
            code = value.strip().lower().replace("-", "_").split("_")[0].split(".")[0]
            if code not in LANGUAGES:
                raise UsageError(
                    N_("{source}: unknown language '{value}'"),
                    N_("use one of {choices}"),
                    params={"source": source, "value": value, "choices": ", ".join(LANGUAGES)},
                )
            return code
    for name in _LOCALE_ENV:
        value = env.get(name)
        if value:
            code = value.strip().lower()[:2]
            return code if code in LANGUAGES else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Language:
    """Words and number formats of one language, for the output layer."""

    code: str
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.translations.ngettext(singular, plural, count)

    def number(self, value: float, decimals: int = 1) -> str:
        """``86.3`` as ``86,3`` in French, ``86.3`` in English; thousands grouped."""
        from babel.numbers import format_decimal

        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
        return str(format_decimal(value, format=pattern, locale=_CLDR_LOCALE[self.code]))

    def signed(self, value: float, decimals: int = 1) -> str:
        """``+3,5`` / ``−2,0``: a number with its sign, for points added or taken off."""
        text = self.number(abs(value), decimals)
        return ("−" if round(value, decimals) < 0 else "+") + text


@functools.cache  # a catalog is read once per process
def language(code: str = DEFAULT_LANGUAGE) -> Language:
    """The :class:`Language` for ``code`` (one of :data:`LANGUAGES`)."""
    if code not in LANGUAGES:
        raise UsageError(
            N_("unknown language '{code}'"),
            N_("use one of {choices}"),
            params={"code": code, "choices": ", ".join(LANGUAGES)},
        )
    if code == "en":  # the messages are written in English
        return Language(code, gettext.NullTranslations())
    return Language(code, _load_catalog(catalog_path(code)))


def catalog_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def _load_catalog(path: Path) -> gettext.GNUTranslations:
    """The ``.po`` file compiled in memory: no build step, one source of truth."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle, locale=path.parent.parent.name, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
