"""Small datasets written on the fly, for tests that need a specific situation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from implant_match.dataset import DataPaths, Dataset, load_dataset

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
EVAL = ROOT / "eval"

THEMES: list[dict[str, Any]] = [
    {"id": "alimentation", "label": "Alimentation", "aliases": ["nourriture", "repas"]},
    {
        "id": "aide-alimentaire",
        "label": "Aide alimentaire",
        "parent": "alimentation",
        "aliases": ["colis alimentaires", "épicerie solidaire"],
    },
    {"id": "circuits-courts", "label": "Circuits courts", "parent": "alimentation"},
    {
        "id": "migrations",
        "label": "Accueil des personnes réfugiées",
        "aliases": ["réfugiés", "exilés"],
    },
    {
        "id": "francais",
        "label": "Apprentissage du français",
        "parent": "migrations",
        "aliases": ["cours de français"],
    },
    {"id": "mobilites", "label": "Mobilités", "aliases": ["transport", "vélo"]},
]


def needs_document(
    needs: list[dict[str, Any]] | None = None, territories: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "themes": THEMES,
        "territories": territories
        or [
            {
                "id": "lyon",
                "name": "Métropole de Lyon",
                "priority_themes": ["alimentation", "mobilites"],
                "local_actors": [
                    {
                        "id": "singa",
                        "name": "Singa Lyon",
                        "themes": ["migrations"],
                        "description": "Accueille des personnes réfugiées.",
                    }
                ],
            },
            {"id": "grenoble", "name": "Grenoble"},
        ],
        "needs": needs
        if needs is not None
        else [
            {
                "id": "fle-lyon",
                "territory": "lyon",
                "title": "Cours de français pour réfugiés",
                "description": "Former au français de nombreuses personnes réfugiées.",
                "themes": ["francais"],
                "keywords": ["FLE", "cours de français"],
                "priority": "high",
            },
            {
                "id": "repas-grenoble",
                "territory": "grenoble",
                "title": "Repas solidaires",
                "description": "Des repas pour les familles précaires.",
                "themes": ["aide-alimentaire"],
            },
        ],
    }


def enterprises_document(enterprises: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "enterprises": enterprises
        if enterprises is not None
        else [
            {
                "id": "langues",
                "name": "Langues Ensemble",
                "origin": "Paris",
                "description": "Cours de français langue étrangère pour les exilés.",
                "themes": ["francais", "migrations"],
            },
            {
                "id": "cantine",
                "name": "Cantine Solidaire",
                "origin": "Nantes",
                "description": "Repas à prix libre et épicerie solidaire.",
                "themes": ["aide-alimentaire"],
                "target_territories": ["grenoble"],
            },
            {
                "id": "velo",
                "name": "Vélo Pour Tous",
                "origin": "Strasbourg",
                "description": "Ateliers de réparation de vélos.",
                "themes": ["mobilites"],
            },
        ],
    }


def write_dataset(
    folder: Path, needs: dict[str, Any] | None = None, enterprises: dict[str, Any] | None = None
) -> DataPaths:
    folder.mkdir(parents=True, exist_ok=True)
    paths = DataPaths(folder / "needs.yaml", folder / "enterprises.yaml")
    for path, document in (
        (paths.needs, needs or needs_document()),
        (paths.enterprises, enterprises or enterprises_document()),
    ):
        path.write_text(
            yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return paths


def make_dataset(
    needs: dict[str, Any] | None = None, enterprises: dict[str, Any] | None = None
) -> Dataset:
    """A dataset built in memory through the public API (no file written)."""
    return Dataset.from_records(needs or needs_document(), enterprises or enterprises_document())


def bundled() -> DataPaths:
    return DataPaths(DATA / "needs.yaml", DATA / "enterprises.yaml")


def bundled_dataset() -> Dataset:
    paths = bundled()
    return load_dataset(paths.needs, paths.enterprises)
