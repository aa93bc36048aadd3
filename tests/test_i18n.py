"""Languages: how one is chosen, the French catalog kept in step, numbers, help texts."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from implant_match.errors import UsageError
from implant_match.i18n import language, resolve_language

from .factories import ROOT

spec = importlib.util.spec_from_file_location("catalog_tool", ROOT / "tools" / "catalog.py")
assert spec and spec.loader
catalog_tool = importlib.util.module_from_spec(spec)
sys.modules["catalog_tool"] = catalog_tool
spec.loader.exec_module(catalog_tool)


@pytest.mark.parametrize(
    ("explicit", "environ", "expected"),
    [
        (None, {}, "fr"),  # no locale at all: the users' language
        (None, {"LANG": "en_GB.UTF-8"}, "en"),
        (None, {"LANG": "fr_FR.UTF-8"}, "fr"),
        (None, {"LANG": "de_DE.UTF-8"}, "fr"),
        (None, {"LANG": "C.UTF-8"}, "fr"),
        (None, {"LC_ALL": "en_US.UTF-8", "LANG": "fr_FR.UTF-8"}, "en"),
        (None, {"LC_MESSAGES": "fr_CA.UTF-8", "LANG": "en_US.UTF-8"}, "fr"),
        (None, {"LC_ALL": "", "LC_MESSAGES": "en", "LANG": "fr_FR"}, "en"),
        (None, {"IMPLANT_MATCH_LANG": "en", "LC_ALL": "fr_FR.UTF-8"}, "en"),
        ("fr", {"IMPLANT_MATCH_LANG": "en", "LC_ALL": "en_US.UTF-8"}, "fr"),
        ("EN", {}, "en"),
        ("fr_FR.UTF-8", {}, "fr"),
    ],
)
def test_the_language_is_the_option_then_the_setting_then_the_locale(
    explicit: str | None, environ: dict[str, str], expected: str
) -> None:
    assert resolve_language(explicit, environ) == expected


@pytest.mark.parametrize(("explicit", "environ"), [("de", {}), (None, {"IMPLANT_MATCH_LANG": "x"})])
def test_a_language_the_tool_does_not_speak_is_a_usage_error(
    explicit: str | None, environ: dict[str, str]
) -> None:
    with pytest.raises(UsageError, match="unknown language"):
        resolve_language(explicit, environ)


def test_the_french_catalog_is_in_step_with_the_code_and_fully_translated() -> None:
    found = catalog_tool.problems(catalog_tool.read_catalog(), catalog_tool.extract())
    assert found == [], "run `python tools/catalog.py`, then translate:\n" + "\n".join(found)


def test_the_catalog_check_fails_on_a_message_the_catalog_lacks() -> None:
    template = catalog_tool.extract()
    template.add("A message nobody translated")
    assert catalog_tool.problems(catalog_tool.read_catalog(), template) == [
        "not in the catalog: 'A message nobody translated'"
    ]


def test_plural_forms_come_from_the_catalog_s_rule() -> None:
    french = language("fr").translations
    assert french.plural(0) == 0 and french.plural(1) == 0 and french.plural(2) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("code", "value", "decimals", "expected"),
    [
        ("fr", 86.25, 1, "86,2"),
        ("fr", 86.35, 1, "86,4"),
        ("en", 86.3, 1, "86.3"),
        ("fr", 1234.5, 1, "1\u202f234,5"),
        ("en", 1234.5, 1, "1,234.5"),
        ("fr", 0.9, 3, "0,900"),
        ("fr", 12, 0, "12"),
    ],
)
def test_numbers_follow_the_language(code: str, value: float, decimals: int, expected: str) -> None:
    assert language(code).number(value, decimals) == expected


def test_signed_numbers_use_a_true_minus() -> None:
    assert language("fr").signed(-6.04) == "−6,0"
    assert language("en").signed(3.5) == "+3.5"


def _help(*args: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "implant_match", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **env},
        check=True,
    )
    return done.stdout


@pytest.mark.slow
def test_help_texts_follow_the_environment_and_the_lang_option() -> None:
    french = _help("rank", "--help", IMPLANT_MATCH_LANG="fr")
    assert "Langue des sorties destinées aux personnes" in french
    english = _help("rank", "--lang", "en", "--help", IMPLANT_MATCH_LANG="fr")
    assert "Language of what people read" in english and "Langue des sorties" not in english
    assert "Language of what people read" in _help("rank", "--help", LANG="en_US.UTF-8")


def test_the_catalog_check_fails_on_a_translation_that_loses_a_placeholder() -> None:
    catalog = catalog_tool.read_catalog()
    catalog["priority {priority}"].string = "priorité"
    assert catalog_tool.problems(catalog, catalog_tool.extract()) == [
        "placeholders differ from the English: 'priority {priority}'"
    ]


def test_the_catalog_check_fails_on_an_ordinary_space_before_a_colon() -> None:
    catalog = catalog_tool.read_catalog()
    catalog["themes: {themes}"].string = "thèmes : {themes}"
    assert catalog_tool.problems(catalog, catalog_tool.extract()) == [
        "French typography (no-break space before : ; ? ! »): 'themes: {themes}'"
    ]
