"""The data contract: frozen pydantic models of themes, territories, needs and enterprises.

Every field carries a description: the same text feeds the JSON Schema (``schemas/``),
editors' completion and the README. Models are strict: text is never coerced from a
number or a boolean, and unknown fields are errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)

SCHEMA_VERSION = 1
ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"

Id = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN, max_length=120),
    Field(description="Lowercase slug: letters a-z, digits and single hyphens."),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


# région "84", département "38", "2A", "974", commune "38185", "2A004", SIREN "200040715"
INSEE_PATTERN = r"^(?:[0-9]{2}|2[AB]|97[1-6]|[0-9]{5}|2[AB][0-9]{3}|[0-9]{9})$"
InseeCode = Annotated[str, StringConstraints(pattern=INSEE_PATTERN)]


class Priority(StrEnum):
    """How urgent a need is; orders needs in reports, never candidates within a need."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @classmethod
    def _missing_(cls, value: object) -> Priority | None:
        """French words the users may type: ``haute``, ``moyenne``, ``basse``."""
        if isinstance(value, str):
            return _PRIORITY_ALIASES.get(value.strip().casefold())
        return None

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        """The JSON Schema accepts the French words too, so editors do not flag them."""
        reference = handler(core_schema)
        schema = handler.resolve_ref_schema(reference)
        schema["enum"] = [*schema["enum"], *_PRIORITY_ALIASES]
        return reference

    @property
    def weight(self) -> int:
        """1, 2, 3 for low, medium, high (the cohort objective uses it too)."""
        return {"low": 1, "medium": 2, "high": 3}[self.value]


_PRIORITY_ALIASES = {
    "haute": Priority.HIGH,
    "moyenne": Priority.MEDIUM,
    "basse": Priority.LOW,
}
ExtraValue = StrictStr | StrictInt | StrictFloat | StrictBool | None
Extra = Annotated[
    dict[str, ExtraValue | list[ExtraValue]],
    Field(
        description="The team's own fields (contact, referent, source...): free keys with a "
        "text, number, boolean or list value; kept and exported, never scored.",
    ),
]


class Record(BaseModel):
    """Common configuration: frozen, strict, no unknown fields."""

    # Lax mode still never turns a number or a boolean into text (pydantic v2), and the
    # integer fields are StrictInt, so nothing is coerced; lax lets YAML lists fill tuples.
    model_config = ConfigDict(frozen=True, extra="forbid")


class WithExtra(Record):
    """A record carrying an ``extra`` mapping: hashed by its id (a dict cannot be hashed;
    equal records still hash equal)."""

    id: Id

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id))


class Theme(Record):
    """A theme of social action; themes form a tree through ``parent``."""

    id: Id
    label: ShortText = Field(description="Human-readable name of the theme, in French.")
    parent: Id | None = Field(
        default=None, description="Id of the broader theme this one belongs to (no cycles)."
    )
    aliases: tuple[ShortText, ...] = Field(
        default=(), description="Words or phrases that signal the theme in free text."
    )


class Relation(StrEnum):
    """What a local actor declares itself to be for some enterprises."""

    PARTNER = "partner"
    COMPETITOR = "competitor"


class ActorRelation(Record):
    """A local actor's declared relation to themes or to named enterprises (field knowledge
    the text cannot show: who sends people to whom, who really competes)."""

    relation: Relation = Field(description="partner or competitor.")
    themes: tuple[Id, ...] = Field(
        default=(),
        description="Enterprises working on these themes (or narrower ones) are concerned.",
    )
    enterprises: tuple[Id, ...] = Field(
        default=(), description="Ids of the enterprises concerned (wins over themes)."
    )
    note: ShortText | None = Field(default=None, description="Why, in a few words.")

    @model_validator(mode="after")
    def _names_someone(self) -> ActorRelation:
        if not self.themes and not self.enterprises:
            raise ValueError("a relation needs 'themes' or 'enterprises'")
        return self


class LocalActor(WithExtra):
    """An organisation already active on a territory: a potential partner or competitor."""

    id: Id
    name: ShortText = Field(description="Name of the organisation.")
    themes: tuple[Id, ...] = Field(description="Ids of the themes it works on.", min_length=1)
    description: Text | None = Field(default=None, description="What it does, in a few lines.")
    relations: tuple[ActorRelation, ...] = Field(
        default=(),
        description="Declared relations to themes or enterprises: partner or competitor.",
    )
    saturated: StrictBool = Field(
        default=False,
        description="It cannot meet the demand: an enterprise doing the same work adds "
        "capacity, so it is not penalised for duplicating it.",
    )
    extra: Extra = Field(default_factory=dict)


class Territory(Record):
    """A territory an enterprise may set up in, with its authority's priorities."""

    id: Id
    name: ShortText = Field(description="Name of the territory.")
    priority_themes: tuple[Id, ...] = Field(
        default=(), description="Theme ids the public authority has made priorities."
    )
    local_actors: tuple[LocalActor, ...] = Field(
        default=(), description="The existing local fabric of organisations."
    )
    parent: Id | None = Field(
        default=None,
        description="Id of the territory this one lies in (a métropole in its région...); its "
        "local actors count for this territory's needs too.",
    )
    insee: InseeCode | None = Field(
        default=None,
        description="Official code: région (2 digits), département (2 or 3 characters, 2A, "
        "2B), EPCI or métropole SIREN (9 digits) or commune (5 characters), from INSEE's COG.",
    )


class Need(WithExtra):
    """A need identified on a territory that nobody answers well enough yet."""

    id: Id
    territory: Id = Field(description="Id of the territory where the need was identified.")
    title: ShortText = Field(description="Short title of the need.")
    description: Text = Field(description="What is missing, for whom, in a few sentences.")
    themes: tuple[Id, ...] = Field(description="Ids of the themes of the need.", min_length=1)
    keywords: tuple[ShortText, ...] = Field(
        default=(), description="Words or phrases an answer to the need would mention."
    )
    priority: Priority = Field(
        default=Priority.MEDIUM,
        description="low, medium or high (default medium); haute, moyenne and basse too.",
    )
    source: ShortText | None = Field(default=None, description="Who identified the need.")
    extra: Extra = Field(default_factory=dict)


class Enterprise(WithExtra):
    """A social enterprise whose impact is proven elsewhere, candidate for implantation."""

    id: Id
    name: ShortText = Field(description="Name of the enterprise.")
    description: Text = Field(description="What it does, for whom, how.")
    themes: tuple[Id, ...] = Field(description="Ids of the themes it works on.", min_length=1)
    keywords: tuple[ShortText, ...] = Field(
        default=(), description="Words or phrases describing its activity."
    )
    origin: ShortText = Field(description="Where its impact was proven (city, region, country).")
    founded: StrictInt | None = Field(
        default=None, ge=1800, le=2100, description="Year of foundation (a four-digit year)."
    )
    target_territories: tuple[Id, ...] | None = Field(
        default=None,
        description="Territory ids it wants to set up in; absent means open to any territory.",
    )
    legal_form: ShortText | None = Field(
        default=None, description="Legal form (association, SCOP, SCIC, SAS ESUS...)."
    )
    website: ShortText | None = Field(default=None, description="Web address.")
    impact: Text | None = Field(default=None, description="Evidence of impact, in free text.")
    present_in: tuple[Id, ...] = Field(
        default=(),
        description="Territory ids where it is already active: not a candidate to bring there.",
    )
    extra: Extra = Field(default_factory=dict)

    def is_present(self, territory_id: str) -> bool:
        """True when it already works on the territory (``present_in``)."""
        return territory_id in self.present_in

    def accepts(self, territory_id: str, within: Iterable[str] = ()) -> bool:
        """The hard rule: False when ``target_territories`` names neither the territory nor
        one of the territories ``within`` which it lies (its région, its département)."""
        if self.target_territories is None or territory_id in self.target_territories:
            return True
        return any(t in self.target_territories for t in within)


class NeedsFile(Record):
    """Contents of ``needs.yaml``: themes, territories and needs."""

    schema_version: StrictInt = Field(description="Version of the data format; must be 1.")
    themes: tuple[Theme, ...] = Field(
        default=(),
        description="Themes added to the shipped taxonomy (a shipped id replaces that theme); "
        "absent: the shipped taxonomy alone.",
    )
    territories: tuple[Territory, ...] = Field(description="Territories.", min_length=1)
    needs: tuple[Need, ...] = Field(default=(), description="Needs identified on territories.")


class EnterprisesFile(Record):
    """Contents of ``enterprises.yaml``: candidate enterprises."""

    schema_version: StrictInt = Field(description="Version of the data format; must be 1.")
    enterprises: tuple[Enterprise, ...] = Field(
        default=(), description="Candidate social enterprises."
    )
