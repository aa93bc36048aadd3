"""The weights of the score's parts: defaults, a YAML file (``--weights``), per-run overrides.

The four evidence parts (themes, text, keywords, meaning) are normalised to sum to 1, so
only their ratios matter: ``--weight themes=0.5`` makes themes weigh 0.5 against the
others' defaults.
``complementarity`` is the share of the score an enterprise loses when it fully duplicates
what a local actor already does (0 disables the penalty, 1 wipes the score out).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from implant_match.errors import DataError, UsageError, suggestion
from implant_match.loading import load_document
from implant_match.messages import N_

EVIDENCE_PARTS = ("themes", "text", "keywords", "meaning")
PARTS = (*EVIDENCE_PARTS, "complementarity")


class Weights(BaseModel):
    """Weight of each part of the fit score."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    themes: float = Field(
        default=0.40, ge=0, le=100, description="Theme overlap through the taxonomy."
    )
    text: float = Field(
        default=0.40,
        ge=0,
        le=100,
        description="Similarity of the need's and the enterprise's texts.",
    )
    keywords: float = Field(
        default=0.10,
        ge=0,
        le=100,
        description="The need's keywords found in the enterprise's text.",
    )
    meaning: float = Field(
        default=0.20,
        ge=0,
        le=100,
        description="Closeness in meaning of the two texts (sentence embeddings); "
        "0 skips the model.",
    )
    complementarity: float = Field(
        default=0.10,
        ge=0,
        le=1,
        description="Share of the score lost by fully duplicating a local actor (0-1).",
    )

    def normalised(self) -> dict[str, float]:
        """Evidence weights summing to 1, plus the complementarity share as given."""
        total = sum(getattr(self, p) for p in EVIDENCE_PARTS)
        if total <= 0:
            raise UsageError(
                N_("the weights of themes, text, keywords and meaning are all zero"),
                N_("give at least one of them a positive weight"),
            )
        out = {p: getattr(self, p) / total for p in EVIDENCE_PARTS}
        out["complementarity"] = self.complementarity
        return out


def load_weights(path: Path | None = None, overrides: list[str] | None = None) -> Weights:
    """Defaults, then the YAML file's values, then each ``name=value`` override."""
    values: dict[str, object] = {}
    if path is not None:
        document = load_document(path)
        if not isinstance(document.data, dict):
            raise DataError(
                [
                    document.source.problem(
                        (),
                        N_("expected a mapping of part names to numbers ({parts})"),
                        params={"parts": ", ".join(PARTS)},
                    )
                ]
            )
        from implant_match.validation import problems_from_validation_error

        try:
            Weights.model_validate(document.data)
        except ValidationError as exc:
            raise DataError(problems_from_validation_error(document, Weights, exc)) from None
        values.update(document.data)
    for item in overrides or []:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep:
            raise UsageError(
                N_("--weight '{item}' is not of the form NAME=VALUE"),
                N_("for example --weight themes=0.5"),
                params={"item": item},
            )
        if name not in PARTS:
            raise UsageError(
                N_("unknown weight '{name}'{suggestion}"),
                N_("weights are {parts}"),
                params={
                    "name": name,
                    "suggestion": suggestion(name, PARTS),
                    "parts": ", ".join(PARTS),
                },
            )
        try:
            values[name] = float(raw.replace(",", "."))
        except ValueError:
            raise UsageError(
                N_("--weight {name}: '{raw}' is not a number"), params={"name": name, "raw": raw}
            ) from None
    try:
        return Weights.model_validate(values)
    except ValidationError as exc:
        from implant_match.validation import error_phrase

        first = exc.errors()[0]
        raise UsageError(
            N_("--weight {name}: {reason}"),
            params={
                "name": ".".join(str(p) for p in first["loc"]),
                "reason": error_phrase(first),
            },
        ) from None
