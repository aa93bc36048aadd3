"""The committed JSON Schemas match the models, and the data files point at them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from implant_match.cli import app
from implant_match.schema import SCHEMAS, json_schema, schema_text

from .factories import DATA, ROOT


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_committed_schema_matches_the_models(kind: str) -> None:
    committed = (ROOT / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(kind), (
        f"schemas/{kind}.schema.json drifted from the models: regenerate it with "
        f"`implant-match schema {kind} > schemas/{kind}.schema.json`"
    )


@pytest.mark.parametrize("kind", ["needs", "enterprises"])
def test_data_files_reference_their_schema(kind: str) -> None:
    first = (DATA / f"{kind}.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema=../schemas/{kind}.schema.json"


def test_schema_command_prints_the_schema() -> None:
    result = CliRunner().invoke(app, ["schema", "needs"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document == json_schema("needs")
    assert document["additionalProperties"] is False
    need = document["$defs"]["Need"]
    assert need["properties"]["priority"]["description"].startswith("low, medium or high")
    assert set(need["required"]) == {"id", "territory", "title", "description", "themes"}


def test_unknown_schema_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["schema", "need"])
    assert result.exit_code == 2
    assert "did you mean 'needs'" in result.output
