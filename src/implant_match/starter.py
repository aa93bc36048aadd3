"""Starter data files for a new territory: commented, valid, on the shipped taxonomy.

:func:`write_starter` writes ``needs.yaml`` and ``enterprises.yaml`` (with the editor
modelines) and the two JSON Schemas they point at, so that an editor checks the files as
they are typed, offline. It never overwrites: an existing file is an error, and nothing is
written then.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from implant_match.errors import ExportError
from implant_match.loading import ENTERPRISES_FILE, NEEDS_FILE
from implant_match.messages import N_

SCHEMA_FOLDER = "schemas"

NEEDS_STARTER = """\
# yaml-language-server: $schema=schemas/needs.schema.json
# Besoins des territoires, lus par implant-match (`implant-match validate` les vérifie).
#
# Écrivez chaque texte entre guillemets doubles ("..."): la typographie française
# (« : » précédé d'une espace, apostrophes) ne casse alors jamais le fichier.
schema_version: 1

# Thèmes : la taxonomie livrée avec implant-match est utilisée (`implant-match themes`
# la liste). Pour ajouter vos propres thèmes, ou préciser un thème livré :
# themes:
#   - id: glanage-solidaire
#     label: "Glanage solidaire"
#     parent: gaspillage-alimentaire
#     aliases: ["glanage", "glaneurs"]

territories:
  # `parent` emboîte les territoires : les acteurs de la région comptent pour les
  # besoins de ses métropoles, et une entreprise qui vise la région y est éligible.
  # `insee` : code officiel (région 2 chiffres, département, SIREN d'EPCI, commune).
  - id: auvergne-rhone-alpes
    name: "Auvergne-Rhône-Alpes"
    insee: "84"
  - id: mon-territoire
    name: "Mon territoire"
    parent: auvergne-rhone-alpes
    priority_themes: [alimentation]
    local_actors:
      - id: epicerie-solidaire-du-quartier
        name: "Épicerie solidaire du quartier"
        themes: [aide-alimentaire]
        description: "Vend des produits à petit prix aux familles orientées par le CCAS."

needs:
  - id: aide-alimentaire-mon-territoire
    territory: mon-territoire
    title: "Un accès digne à l'alimentation"
    description: "Des familles précaires renoncent à des repas équilibrés : l'épicerie
      solidaire du quartier ne suffit plus à la demande."
    themes: [aide-alimentaire]
    keywords: ["épicerie solidaire", "familles précaires"]
    priority: high
    source: "Diagnostic social du territoire"
"""

ENTERPRISES_STARTER = """\
# yaml-language-server: $schema=schemas/enterprises.schema.json
# Entreprises sociales candidates à l'implantation, lues par implant-match.
# `implant-match import tableau.xlsx --to enterprises.yaml` les reprend d'un tableur.
#
# Écrivez chaque texte entre guillemets doubles ("...").
schema_version: 1

enterprises:
  - id: epicerie-mobile-exemple
    name: "Épicerie mobile (exemple)"
    description: "Un camion-épicerie solidaire qui va au-devant des familles précaires
      des quartiers et des villages : produits frais à petit prix, ateliers cuisine."
    themes: [aide-alimentaire]
    keywords: ["épicerie solidaire", "circuits courts"]
    origin: "Nantes"
    founded: 2016
    legal_form: "association"
    # absent : ouverte à tout territoire ; une région vaut pour ses métropoles
    target_territories: [auvergne-rhone-alpes]
"""


def starter_files(folder: Path) -> dict[Path, str]:
    """The files :func:`write_starter` writes, and their text."""
    from implant_match.schema import schema_text

    return {
        folder / NEEDS_FILE: NEEDS_STARTER,
        folder / ENTERPRISES_FILE: ENTERPRISES_STARTER,
        folder / SCHEMA_FOLDER / "needs.schema.json": schema_text("needs"),
        folder / SCHEMA_FOLDER / "enterprises.schema.json": schema_text("enterprises"),
    }


class ExistingFileError(ExportError):
    """A file ``init`` would overwrite."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(N_("{path} already exists: nothing was written"), params={"path": path})


def write_starter(folder: Path) -> list[Path]:
    """Write the starter files into ``folder`` (created if needed) and return them;
    :class:`ExistingFileError` (nothing written) when one of them exists."""
    files = starter_files(folder)
    for path in files:
        if path.exists():
            raise ExistingFileError(path)
    written = []
    for path, text in files.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, text)
        except OSError as exc:
            raise ExportError(
                N_("{path}: cannot write ({reason})"),
                params={"path": path, "reason": exc.strerror},
            ) from None
        written.append(path)
    return written


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file renamed over it, so a
    reader never sees half a file."""
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes 0600 files: keep the replaced file's mode, or a new file's
        os.chmod(name, path.stat().st_mode & 0o7777 if path.exists() else _new_file_mode())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _new_file_mode() -> int:
    """The mode a newly created file gets under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
