"""Keep the translation catalog in step with the code.

    python tools/catalog.py            # add new messages to the French catalog, drop gone ones
    python tools/catalog.py --check    # exit 1 when the catalog is stale or untranslated

Messages are extracted from ``src/implant_match`` (``_()``, ``N_()``, ``ngettext()`` in
Python; ``{% trans %}`` and ``_()`` in Jinja2 templates) with Babel, and merged into
``locale/fr/LC_MESSAGES/implant_match.po``: existing translations are kept, new messages
are added untranslated (fill them in), messages no longer in the code are removed.
"""

from __future__ import annotations

import argparse
import re
import string
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "implant_match"
CATALOG = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "implant_match.po"
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "autoescape": "true"}}


def extract() -> Catalog:
    """Every message the code marks for translation, as a template catalog."""
    template = Catalog(domain="implant_match", project="implant-match", charset="utf-8")
    methods = [(p, m) for p, m in METHODS if m != "jinja2" or _has_jinja2()]
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE), method_map=methods, options_map=OPTIONS, strip_comment_tags=True
    ):
        template.add(
            message,
            None,
            [(f"src/implant_match/{filename}", lineno)],
            auto_comments=comments,
            context=context,
        )
    return template


def _has_jinja2() -> bool:
    try:
        import jinja2  # noqa: F401
    except ImportError:
        return False
    return True


def read_catalog(path: Path = CATALOG) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale="fr", domain="implant_match")


def problems(catalog: Catalog, template: Catalog) -> list[str]:
    """What is wrong with ``catalog`` against the code's messages (empty: in step)."""
    found = []
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    found += [f"not in the catalog: {m!r}" for m in sorted(wanted - have)]
    found += [f"no longer in the code: {m!r}" for m in sorted(have - wanted)]
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if not all(strings) or message.fuzzy:
            found.append(f"not translated: {message.id!r}")
        elif any(_ORDINARY_SPACE.search(text) for text in strings):
            found.append(f"French typography (no-break space before : ; ? ! »): {message.id!r}")
        elif any(_fields(text) != _fields(ids[-1]) for text in strings):
            found.append(f"placeholders differ from the English: {message.id!r}")
    return found


def _fields(text: str) -> set[str]:
    """The ``{placeholders}`` of a message (a translation must keep them all)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


# French puts a no-break space (U+00A0) before : ; ? ! and inside « »; an ordinary space
# there lets the line break before the sign
_ORDINARY_SPACE = re.compile(r" [:;?!»]|« ")


STABLE_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # no date churn in diffs


def update() -> None:
    catalog = read_catalog() if CATALOG.exists() else Catalog(locale="fr", domain="implant_match")
    catalog.update(extract(), no_fuzzy_matching=True, update_creation_date=False)
    catalog.obsolete.clear()
    catalog.creation_date = catalog.revision_date = STABLE_DATE
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "implant-match developers"
    catalog.language_team = "implant-match developers"
    with CATALOG.open("wb") as handle:
        # files without line numbers: moving code does not touch the catalog
        write_po(handle, catalog, width=100, include_lineno=False, sort_output=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say what is out of step")
    args = parser.parse_args(argv)
    if args.check:
        found = problems(read_catalog(), extract())
        for line in found:
            print(line)
        return 1 if found else 0
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
