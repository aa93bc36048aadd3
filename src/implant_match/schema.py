"""JSON Schemas of the data files, generated from the models.

Committed copies live in ``schemas/`` and are referenced from the data files' first line
(``# yaml-language-server: $schema=...``) so editors check as you type; a test fails when
the copies drift from the models.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from implant_match.decisions import DecisionsFile
from implant_match.lexicon import LexiconFile
from implant_match.models import EnterprisesFile, NeedsFile
from implant_match.taxonomy import TaxonomyFile
from implant_match.weights import Weights

SCHEMAS: dict[str, type[BaseModel]] = {
    "needs": NeedsFile,
    "enterprises": EnterprisesFile,
    "lexicon": LexiconFile,
    "weights": Weights,
    "decisions": DecisionsFile,
    "taxonomy": TaxonomyFile,
}


def json_schema(kind: str) -> dict[str, Any]:
    model = SCHEMAS[kind]
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://implant-match.invalid/schemas/{kind}.schema.json"
    return schema


def schema_text(kind: str) -> str:
    return json.dumps(json_schema(kind), ensure_ascii=False, indent=2) + "\n"
