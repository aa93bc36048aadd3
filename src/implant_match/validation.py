"""Validate stage: plain loaded data -> models, plus every located problem at once.

Three passes, each collecting problems rather than stopping at the first:

1. the shape and schema of each file (pydantic), turned into readable messages that name
   the offending field, value or id and point at its line;
2. the references across the two files (themes, parents, territories), with the closest
   valid id as a suggestion, duplicate ids and cycles in the theme tree;
3. warnings that do not make the data unusable: near-duplicate enterprise names, themes
   never used, priority themes with no need.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from implant_match.errors import Problem, closest, shown_id, suggestion
from implant_match.loading import Document, PathKey, SourceMap, Yaml11Scalar
from implant_match.messages import N_, Phrase
from implant_match.models import (
    SCHEMA_VERSION,
    Enterprise,
    EnterprisesFile,
    Need,
    NeedsFile,
    Territory,
    Theme,
)
from implant_match.taxonomy import load_taxonomy, merge_themes, shipped_theme_ids
from implant_match.territories import ancestors, check_territories, find_cycles

_ITEM_MODELS: dict[str, type[BaseModel]] = {
    "themes": Theme,
    "territories": Territory,
    "needs": Need,
    "enterprises": Enterprise,
}
_KIND = {
    "themes": "theme",
    "territories": "territory",
    "needs": "need",
    "enterprises": "enterprise",
    "local_actors": "local actor",
    "decisions": "decision",
    "relations": "relation",
}
_PRIORITIES = "'low', 'medium' or 'high'"  # pydantic's words for the Priority values
# " in need 'x'" / " in need #3": one template per kind, so each language can agree them
_IN_RECORD = {
    "theme": (N_(" in theme '{id}'"), N_(" in theme #{number}")),
    "territory": (N_(" in territory '{id}'"), N_(" in territory #{number}")),
    "need": (N_(" in need '{id}'"), N_(" in need #{number}")),
    "enterprise": (N_(" in enterprise '{id}'"), N_(" in enterprise #{number}")),
    "local actor": (N_(" in local actor '{id}'"), N_(" in local actor #{number}")),
    "decision": (N_(" in decision '{id}'"), N_(" in decision #{number}")),
    "relation": (N_(" in relation '{id}'"), N_(" in relation #{number}")),
    "group": (N_(" in group '{id}'"), N_(" in group #{number}")),
    "record": (N_(" in record '{id}'"), N_(" in record #{number}")),
}
_DUPLICATE = {
    "theme": N_("duplicate theme id '{id}' (first defined {where})"),
    "territory": N_("duplicate territory id '{id}' (first defined {where})"),
    "need": N_("duplicate need id '{id}' (first defined {where})"),
    "enterprise": N_("duplicate enterprise id '{id}' (first defined {where})"),
    "local actor": N_("duplicate local actor id '{id}' (first defined {where})"),
    "record": N_("duplicate record id '{id}' (first defined {where})"),
}
_UNKNOWN = {
    "theme": N_("unknown theme '{id}'{suggestion}"),
    "territory": N_("unknown territory '{id}'{suggestion}"),
    "enterprise": N_("unknown enterprise '{id}'{suggestion}"),
    "need": N_("unknown need '{id}'{suggestion}"),
}


@dataclass
class Validated:
    """What validation keeps: the usable records of both files and every problem found."""

    needs_file: NeedsFile | None
    enterprises_file: EnterprisesFile | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)


# -- pass 1: schema ---------------------------------------------------------------------


def validate_schema(
    document: Document, model: type[NeedsFile] | type[EnterprisesFile]
) -> tuple[Any, list[Problem]]:
    """Validate one file against its model; on failure keep every record that is valid."""
    source = document.source
    data = document.data
    expected = ", ".join(model.model_fields)
    if not isinstance(data, dict):
        return None, [
            source.problem(
                (),
                N_("expected a mapping with the keys {keys}; found {found}"),
                params={"keys": expected, "found": describe_value(data)},
            )
        ]
    version = schema_version_problems(source, data)
    try:
        validated = model.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation_error(document, model, exc)
    else:
        return (None, version) if version else (validated, [])
    return _salvage(data, model, source), [*version, *problems]


_TEMPLATE = "template"  # where a custom error of ours keeps its English template

# pydantic's messages (first letter lowered) as templates of their context's values
_PYDANTIC_WORDS = {
    "greater_than_equal": N_("input should be greater than or equal to {ge}"),
    "greater_than": N_("input should be greater than {gt}"),
    "less_than_equal": N_("input should be less than or equal to {le}"),
    "less_than": N_("input should be less than {lt}"),
    "finite_number": N_("input should be a finite number"),
    "float_type": N_("input should be a valid number"),
    "float_parsing": N_("input should be a valid number, unable to parse string as a number"),
    "int_type": N_("input should be a valid integer"),
    "int_parsing": N_("input should be a valid integer, unable to parse string as an integer"),
    "string_type": N_("input should be a valid string"),
    "string_too_long": N_("string should have at most {max_length} characters"),
}


def custom_error(kind: str, template: str, **params: Any) -> PydanticCustomError:
    """A validator's error whose message is a template marked ``N_()``: pydantic's
    message is the English text, and the template travels with its values in the error's
    context, so that :func:`error_phrase` words it in the reader's language."""
    return PydanticCustomError(kind, template, {**params, _TEMPLATE: template})


def error_phrase(error: Mapping[str, Any]) -> Phrase | str:
    """What a pydantic error says (its first letter lowered), as a phrase the output layer
    words in the reader's language; pydantic's own English for errors not listed."""
    context = dict(error.get("ctx") or {})
    template = context.pop(_TEMPLATE, None) or _PYDANTIC_WORDS.get(error["type"])
    if template is not None and not (
        error["type"] == "string_too_long" and context.get("max_length") == 1
    ):
        try:
            template.format(**context)
        except (KeyError, IndexError, ValueError):  # another pydantic's words
            pass
        else:  # a bound as pydantic writes it: 0, not 0.0
            return Phrase(template, tuple((k, _plain(v)) for k, v in context.items()))
    message = str(error.get("msg", ""))
    return message[:1].lower() + message[1:]


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def problems_from_validation_error(
    document: Document, model: type[BaseModel], exc: ValidationError
) -> list[Problem]:
    """One located, readable problem per pydantic error.

    A list whose items failed also fails its "at least one item" rule; that echo is dropped.
    """
    errors = exc.errors()
    failed_inside = {tuple(e["loc"][:-2]) for e in errors if len(e["loc"]) >= 2}
    failed_inside |= {
        tuple(e["loc"][:i])
        for e in errors
        for i in range(len(e["loc"]))
        if isinstance(e["loc"][i], int)
    }
    kept = [
        e
        for e in errors
        if not (e["type"] == "too_short" and tuple(e["loc"]) in failed_inside)
        and not (e["type"] == "missing" and _misspelt(e, errors))
    ]
    return [_problem_from_error(document.source, model, e, document.data) for e in kept]


def _misspelt(missing: Any, errors: list[Any]) -> bool:
    """A missing field that an unknown field of the same record misspells (titel/title):
    the unknown field's message already says "did you mean 'title'?"."""
    record, name = tuple(missing["loc"][:-1]), missing["loc"][-1]
    return any(
        e["type"] == "extra_forbidden"
        and tuple(e["loc"][:-1]) == record
        and closest(str(e["loc"][-1]), [name]) == name
        for e in errors
    )


def schema_version_problems(source: SourceMap, data: dict[str, Any]) -> list[Problem]:
    """A ``schema_version`` this version does not read, said at its line."""
    version = data.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version != SCHEMA_VERSION:
        return [
            source.problem(
                ("schema_version",),
                N_(
                    "unsupported schema_version {version}; "
                    "this version of implant-match reads {supported}"
                ),
                params={"version": version, "supported": SCHEMA_VERSION},
            )
        ]
    return []


def _salvage(data: dict[str, Any], model: type[BaseModel], source: SourceMap) -> Any:
    """Build the file model from its valid records only, so reference checks can go on."""
    values: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    for name in model.model_fields:
        if name == "schema_version":
            continue
        item_model = _ITEM_MODELS[name]
        adapter = TypeAdapter(item_model)
        raw = data.get(name)
        kept, indices = [], []
        for index, item in enumerate(raw if isinstance(raw, list) else []):
            try:
                kept.append(adapter.validate_python(item))
            except ValidationError:
                continue
            indices.append(index)
        values[name] = tuple(kept)
        source.record_indices[(name,)] = indices
    return model.model_construct(**values)


def _problem_from_error(
    source: SourceMap, model: type[BaseModel], error: Any, data: Any
) -> Problem:
    loc: PathKey = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    name = str(loc[-1]) if loc else ""
    where = _where(loc, data)
    if kind == "extra_forbidden":
        allowed = _model_at(model, loc[:-1]).model_fields
        return source.problem(
            loc,
            N_("unknown field '{name}'{where}{suggestion}"),
            key=True,
            hint=N_("allowed fields: {allowed}"),
            params={
                "name": name,
                "where": where,
                "suggestion": suggestion(name, allowed),
                "allowed": ", ".join(allowed),
            },
        )
    if kind == "missing":
        return source.problem(
            loc[:-1],
            N_("missing required field '{name}'{where}"),
            key=True,
            params={"name": name, "where": where},
        )
    if loc and loc[-1] == "schema_version" and kind == "int_type":
        return source.problem(
            loc,
            N_("schema_version must be the number {supported}, found {found}"),
            params={"supported": SCHEMA_VERSION, "found": describe_value(value)},
        )
    field_name = _field_name(loc)
    if isinstance(value, Yaml11Scalar) and kind in ("string_type", "int_type"):
        if kind == "int_type":
            hint = N_("write the number without leading zeros or separators")
        elif isinstance(loc[-1], int):
            hint = N_('put the item in quotes: "{text}"')
        else:
            hint = N_('write {field}: "{text}"')
        return source.problem(
            loc,
            N_("{field}: unquoted '{text}' is read as {reading} by YAML 1.1 tools{where}"),
            hint=hint,
            params={
                "field": field_name,
                "text": value.text,
                "reading": value.reading or value.yaml11_reading,
                "where": where,
            },
        )
    if kind == "string_pattern_mismatch" and field_name == "insee":
        return source.problem(
            loc,
            N_("insee: '{value}' is not an official code{where}"),
            hint=N_(
                "a région has 2 digits, a département 2 or 3 characters (38, 2A, 974), a "
                "commune 5 (38185), an EPCI or métropole its 9-digit SIREN"
            ),
            params={"value": value, "where": where},
        )
    message, params = _message_for(kind, field_name, value, error, where)
    return source.problem(loc, message, params=params)


def _message_for(
    kind: str, field_name: str, value: Any, error: Any, where: Phrase | str
) -> tuple[str, dict[str, Any]]:
    """The template of the message for a pydantic error of type ``kind``, and its values."""
    params: dict[str, Any] = {"field": field_name, "where": where, "found": describe_value(value)}
    if kind == "string_type":
        if value is None:
            return N_("{field}: must not be empty{where}"), params
        return N_("{field}: expected text, found {found}{where} (put it in quotes)"), params
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return N_("{field}: expected a whole number, found {found}{where}"), params
    if kind in ("greater_than_equal", "less_than_equal"):
        params["rule"] = error_phrase(error)
        return N_("{field}: {found} is out of range ({rule}){where}"), params
    if kind in ("float_type", "float_parsing"):
        return N_("{field}: expected a number, found {found}{where}"), params
    if kind == "finite_number":
        return N_("{field}: expected a finite number, found {found}{where}"), params
    if kind == "string_pattern_mismatch":
        slug = _slugify(str(value))
        params["value"] = value
        params["suggestion"] = (
            Phrase.of(N_("; did you mean '{match}'?"), match=slug) if slug and slug != value else ""
        )
        return (
            N_(
                "{field}: '{value}' is not a valid id (lowercase letters, digits and "
                "single hyphens){where}{suggestion}"
            ),
            params,
        )
    if kind == "string_too_short":
        return N_("{field}: must not be empty{where}"), params
    if kind == "string_too_long":
        params["rule"] = error_phrase(error)
        return N_("{field}: text is too long ({rule}){where}"), params
    if kind == "too_short":
        return N_("{field}: must list at least one item{where}"), params
    if kind == "enum":
        params["value"] = value
        allowed = error.get("ctx", {}).get("expected", "")
        params["allowed"] = (
            Phrase.of(N_("'low', 'medium' or 'high'")) if allowed == _PRIORITIES else allowed
        )
        params["suggestion"] = suggestion(str(value), ["low", "medium", "high"])
        return (
            N_("{field}: '{value}' is not allowed; expected {allowed}{where}{suggestion}"),
            params,
        )
    if kind in ("tuple_type", "list_type"):
        return N_("{field}: expected a list, found {found}{where}"), params
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return N_("{field}: expected a mapping (key: value lines), found {found}{where}"), params
    context = error.get("ctx") or {}
    params["rule"] = error_phrase(error) if _TEMPLATE in context else error["msg"]
    return N_("{field}: {rule}{where}"), params


def _model_at(model: type[BaseModel], loc: PathKey) -> type[BaseModel]:
    """The model that describes the record at ``loc`` (for "allowed fields" hints)."""
    current = model
    for part in loc:
        if isinstance(part, str) and part in current.model_fields:
            nested = _nested_model(current.model_fields[part].annotation)
            if nested is not None:
                current = nested
    return current


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _field_name(loc: PathKey) -> str:
    names = [str(p) for p in loc if isinstance(p, str)]
    if loc and isinstance(loc[-1], int) and names:
        return f"{names[-1]}[{loc[-1]}]"
    return names[-1] if names else "file"


def _where(loc: PathKey, data: Any) -> Phrase | str:
    """`` in need 'x'`` for the innermost record of ``loc`` that has an id."""
    label: Phrase | str = ""
    node = data
    for i, part in enumerate(loc):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(part, int) and i > 0 and isinstance(node, dict):
            record_id = node.get("id")
            named, numbered = _IN_RECORD[_KIND.get(str(loc[i - 1]), "record")]
            label = (
                Phrase.of(named, id=record_id)
                if isinstance(record_id, str)
                else Phrase.of(numbered, number=part + 1)
            )
    return label


def describe_value(value: Any) -> Phrase:
    if value is None:
        return Phrase.of(N_("nothing (an empty value)"))
    if isinstance(value, bool):
        return Phrase.of(N_("the boolean {value}"), value=str(value).lower())
    if isinstance(value, (int, float)):
        return Phrase.of(N_("the number {value}"), value=value)
    if isinstance(value, str):
        return Phrase.of(N_("the text '{value}'"), value=value[:60])
    if isinstance(value, list):
        return Phrase.of(N_("a list"))
    if isinstance(value, dict):
        return Phrase.of(N_("a mapping"))
    return Phrase.of("'{value}'", value=value)


def fold(text: str) -> str:
    """Lowercase and strip accents: enough to compare names and make id suggestions."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _slugify(text: str) -> str:
    chars = [c if c.isalnum() else "-" for c in fold(text).replace("œ", "oe").replace("æ", "ae")]
    return "-".join(part for part in "".join(chars).split("-") if part)


# -- pass 2: references -------------------------------------------------------------------
#
# Run on the raw data, not on the validated records: a record with a schema error still
# has its references checked, and its id still counts as defined (no cascade of "unknown
# territory" errors because one field of that territory was mistyped).


def _records(data: Any, *path: str) -> list[tuple[int, dict[str, Any]]]:
    node = data
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return (
        [(i, r) for i, r in enumerate(node) if isinstance(r, dict)]
        if isinstance(node, list)
        else []
    )


def _ids(records: list[tuple[int, dict[str, Any]]]) -> set[str]:
    return {r["id"] for _, r in records if isinstance(r.get("id"), str)}


def check_references(needs_doc: Document | None, enterprises_doc: Document | None) -> list[Problem]:
    """Duplicate ids, unknown references (with suggestions) and cycles in the theme tree."""
    problems: list[Problem] = []
    theme_ids: set[str] = set()
    territory_ids: set[str] = set()
    if needs_doc is not None:
        src, data = needs_doc.source, needs_doc.data
        themes = _records(data, "themes")
        territories = _records(data, "territories")
        theme_ids, territory_ids = _ids(themes) | shipped_theme_ids(), _ids(territories)
        _duplicates(src, ("themes",), themes, problems)
        _duplicates(src, ("territories",), territories, problems)
        _duplicates(src, ("needs",), _records(data, "needs"), problems)
        for i, theme in themes:
            _ref(src, ("themes", i, "parent"), theme.get("parent"), theme_ids, "theme", problems)
        problems.extend(_cycles(src, themes))
        problems.extend(_cycles_through_shipped(src, themes))
        problems.extend(check_territories(src, territories))
        for i, territory in territories:
            base: PathKey = ("territories", i)
            _refs(
                src,
                (*base, "priority_themes"),
                territory.get("priority_themes"),
                theme_ids,
                "theme",
                problems,
            )
            actors = _records(territory, "local_actors")
            _duplicates(src, (*base, "local_actors"), actors, problems)
            for j, actor in actors:
                _refs(
                    src,
                    (*base, "local_actors", j, "themes"),
                    actor.get("themes"),
                    theme_ids,
                    "theme",
                    problems,
                )
        for i, need in _records(data, "needs"):
            _ref(
                src,
                ("needs", i, "territory"),
                need.get("territory"),
                territory_ids,
                "territory",
                problems,
            )
            _refs(src, ("needs", i, "themes"), need.get("themes"), theme_ids, "theme", problems)
    if enterprises_doc is not None:
        problems += check_enterprise_references(
            enterprises_doc, (theme_ids, territory_ids) if needs_doc is not None else None
        )
    return problems


def check_enterprise_references(
    enterprises_doc: Document, known: tuple[set[str], set[str]] | None
) -> list[Problem]:
    """Duplicate ids in one candidate file, and its unknown themes and territories among
    the ``known`` (theme ids, territory ids); None: nothing to resolve against (the needs
    file could not be read, and its errors say why)."""
    problems: list[Problem] = []
    src, data = enterprises_doc.source, enterprises_doc.data
    enterprises = _records(data, "enterprises")
    _duplicates(src, ("enterprises",), enterprises, problems)
    if known is not None:
        theme_ids, territory_ids = known
        for i, enterprise in enterprises:
            _refs(
                src,
                ("enterprises", i, "themes"),
                enterprise.get("themes"),
                theme_ids,
                "theme",
                problems,
            )
            _refs(
                src,
                ("enterprises", i, "target_territories"),
                enterprise.get("target_territories"),
                territory_ids,
                "territory",
                problems,
            )
    return problems


def known_ids(needs_doc: Document | None) -> tuple[set[str], set[str]] | None:
    """(theme ids, territory ids) a candidate file may refer to: the shipped themes and
    those of the needs file, its territories; None without a readable needs file."""
    if needs_doc is None or not isinstance(needs_doc.data, dict):
        return None
    data = needs_doc.data
    return _ids(_records(data, "themes")) | shipped_theme_ids(), _ids(_records(data, "territories"))


def duplicates_across(documents: Sequence[Document]) -> list[Problem]:
    """An enterprise id defined in two candidate files: an error at the second, naming the
    first place (file and line)."""
    problems: list[Problem] = []
    first: dict[str, tuple[Document, int]] = {}
    for document in documents:
        here: set[str] = set()
        for i, record in _records(document.data, "enterprises"):
            record_id = record.get("id")
            if not isinstance(record_id, str) or record_id in here:
                continue  # a duplicate within one file is reported by that file's check
            here.add(record_id)
            if record_id in first:
                other, j = first[record_id]
                if other.source.by_path:
                    where = other.source.where(("enterprises", j, "id"))
                else:
                    line = other.source.locate(("enterprises", j, "id"))[0]
                    where = f"{other.source.path}:{line}"
                problems.append(
                    document.source.problem(
                        ("enterprises", i, "id"),
                        N_("duplicate enterprise id '{id}' (first defined in {where})"),
                        hint=N_("ids must be unique across the candidate files"),
                        params={"id": record_id, "where": where},
                    )
                )
            else:
                first[record_id] = (document, i)
    return problems


def check_selection_references(
    needs_doc: Document | None,
    enterprises_doc: Document | None,
    theme_ids: set[str],
    territory_ids: set[str],
) -> list[Problem]:
    """The ids of ``present_in`` and of local actors' declared relations (themes and
    enterprises), with suggestions."""
    problems: list[Problem] = []
    if needs_doc is None or enterprises_doc is None:
        return problems
    enterprises = _records(enterprises_doc.data, "enterprises")
    for i, enterprise in enterprises:
        _refs(
            enterprises_doc.source,
            ("enterprises", i, "present_in"),
            enterprise.get("present_in"),
            territory_ids,
            "territory",
            problems,
        )
    enterprise_ids = _ids(enterprises)
    src = needs_doc.source
    for i, territory in _records(needs_doc.data, "territories"):
        for j, actor in _records(territory, "local_actors"):
            for k, declared in _records(actor, "relations"):
                base: PathKey = ("territories", i, "local_actors", j, "relations", k)
                for key, known, kind in (
                    ("themes", theme_ids, "theme"),
                    ("enterprises", enterprise_ids, "enterprise"),
                ):
                    _refs(src, (*base, key), declared.get(key), known, kind, problems)
    return problems


def _duplicates(
    source: SourceMap,
    base: PathKey,
    records: list[tuple[int, dict[str, Any]]],
    problems: list[Problem],
) -> None:
    seen: dict[str, int] = {}
    kind = _KIND.get(str(base[-1]), "record")
    for i, record in records:
        record_id = record.get("id")
        if not isinstance(record_id, str):
            continue
        if record_id in seen:
            first = source.place((*base, seen[record_id], "id"))
            at = N_("at {place}") if source.by_path else N_("on {place}")
            problems.append(
                source.problem(
                    (*base, i, "id"),
                    _DUPLICATE.get(kind, _DUPLICATE["record"]),
                    hint=N_("ids must be unique"),
                    params={"id": record_id, "where": Phrase.of(at, place=first)},
                )
            )
        else:
            seen[record_id] = i


def _ref(
    source: SourceMap, loc: PathKey, value: Any, known: set[str], kind: str, problems: list[Problem]
) -> None:
    if isinstance(value, str) and value not in known:
        problems.append(
            source.problem(
                loc,
                _UNKNOWN[kind],
                params={"id": shown_id(value), "suggestion": suggestion(value, sorted(known))},
            )
        )


def _refs(
    source: SourceMap,
    loc: PathKey,
    values: Any,
    known: set[str],
    kind: str,
    problems: list[Problem],
) -> None:
    if isinstance(values, list):
        for j, value in enumerate(values):
            if isinstance(value, str) and value not in known:  # located only when unknown
                _ref(source, (*loc, j), value, known, kind, problems)


MAX_THEME_DEPTH = 64  # levels below a root; real taxonomies have a handful


def _cycles(source: SourceMap, themes: list[tuple[int, dict[str, Any]]]) -> list[Problem]:
    """Each cycle of parents once, on its first theme in the file; then themes too deep.

    Every theme is walked up once (a walk stops at a theme already seen), so a chain of
    thousands of parents takes linear time.
    """
    parents = {
        t["id"]: t.get("parent")
        for _, t in themes
        if isinstance(t.get("id"), str) and isinstance(t.get("parent"), (str, type(None)))
    }
    first_index: dict[str, int] = {}
    for i, theme in themes:
        theme_id = theme.get("id")
        if isinstance(theme_id, str) and theme_id in parents:
            first_index.setdefault(theme_id, i)
    state: dict[str, int] = {}  # 1: on the walk under way, 2: done
    depth: dict[str, int] = {}  # levels below a root; absent for a theme under a cycle
    cycles: list[list[str]] = []
    for theme_id in first_index:
        path: list[str] = []
        current: str | None = theme_id
        while current is not None and current in parents and current not in state:
            state[current] = 1
            path.append(current)
            current = parents[current]
        if current is not None and state.get(current) == 1:  # the walk closed on itself
            cycles.append(path[path.index(current) :])
        base = -1 if current is None or current not in parents else depth.get(current)
        for member in reversed(path):
            state[member] = 2
            if base is not None:  # None: on a cycle, or under one
                base += 1
                depth[member] = base
            else:
                base = None
    problems = []
    for cycle in cycles:
        start = min(cycle, key=first_index.__getitem__)
        k = cycle.index(start)
        chain = [*cycle[k:], *cycle[:k], start]
        problems.append(
            source.problem(
                ("themes", first_index[start], "parent"),
                N_("theme '{id}' is its own ancestor: {chain}"),
                hint=N_("parents must form a tree"),
                params={"id": start, "chain": " -> ".join(chain)},
            )
        )
    for theme_id, level in depth.items():
        if level == MAX_THEME_DEPTH + 1:  # the first level past the limit, once per branch
            problems.append(
                source.problem(
                    ("themes", first_index[theme_id], "parent"),
                    N_(
                        "theme '{id}' is {level} levels below its root; the limit is {limit} levels"
                    ),
                    hint=N_("attach it higher in the tree"),
                    params={"id": theme_id, "level": level, "limit": MAX_THEME_DEPTH},
                )
            )
    return problems


def _cycles_through_shipped(
    source: SourceMap, themes: list[tuple[int, dict[str, Any]]]
) -> list[Problem]:
    """Cycles that a needs-file theme closes through shipped themes (a shipped id given a
    parent below itself); cycles among the file's own themes are ``_cycles``'s."""
    own = {
        t["id"]: (i, t.get("parent"))
        for i, t in themes
        if isinstance(t.get("id"), str) and isinstance(t.get("parent"), (str, type(None)))
    }
    parents: dict[str, str | None] = {t.id: t.parent for t in load_taxonomy().themes}
    parents.update({theme_id: parent for theme_id, (_, parent) in own.items()})
    problems = []
    for cycle in find_cycles(parents):
        if all(theme_id in own for theme_id in cycle):
            continue
        culprit = next((t for t in cycle if t in own), cycle[0])
        if culprit not in own:  # pragma: no cover - the shipped taxonomy has no cycle
            continue
        at = cycle.index(culprit)
        chain = [*cycle[at:], *cycle[:at], culprit]
        problems.append(
            source.problem(
                ("themes", own[culprit][0], "parent"),
                N_("theme '{id}' is its own ancestor: {chain}"),
                hint=N_("parents must form a tree (shipped themes included)"),
                params={"id": culprit, "chain": " -> ".join(chain)},
            )
        )
    return problems


# -- pass 3: warnings ---------------------------------------------------------------------


def _indexed(
    source: SourceMap, key: str | PathKey, records: Sequence[Any]
) -> list[tuple[int, Any]]:
    """Pair each record with its index in the file (salvaged lists keep their raw indices)."""
    base: PathKey = (key,) if isinstance(key, str) else key
    indices = source.record_indices.get(base)
    if indices is None or len(indices) != len(records):
        indices = list(range(len(records)))
    return list(zip(indices, records, strict=True))


def check_warnings(
    needs_file: NeedsFile,
    enterprises_file: EnterprisesFile,
    needs_source: SourceMap,
    enterprises_source: SourceMap,
    more_enterprises: Sequence[tuple[SourceMap, EnterprisesFile]] = (),
) -> list[Problem]:
    """Findings worth a look that do not make the data unusable (``more_enterprises``:
    the other candidate files, whose names are compared with the first's too)."""

    problems: list[Problem] = []
    themes = needs_file.themes
    # the shipped taxonomy's themes too: a project theme may be the child of a shipped one
    parent = {theme.id: theme.parent for theme in merge_themes(themes)}

    def with_ancestors(theme_ids: set[str]) -> set[str]:
        """The themes whose subtree holds one of ``theme_ids``: each walked up once."""
        out: set[str] = set()
        for theme_id in theme_ids:
            current: str | None = theme_id
            while current is not None and current in parent and current not in out:
                out.add(current)
                current = parent[current]
        return out

    known_themes = {t.id for t in themes} | shipped_theme_ids()
    used: set[str] = set()
    for need in needs_file.needs:
        used.update(need.themes)
    for _, candidates in ((enterprises_source, enterprises_file), *more_enterprises):
        for enterprise in candidates.enterprises:
            used.update(enterprise.themes)
    for territory in needs_file.territories:
        used.update(territory.priority_themes)
        for actor in territory.local_actors:
            used.update(actor.themes)
    live = with_ancestors(used)
    for i, theme in _indexed(needs_source, "themes", themes):
        if theme.id not in live:
            problems.append(
                needs_source.problem(
                    ("themes", i, "id"),
                    N_("theme '{id}' is never used by a need, an enterprise or a local actor"),
                    severity="warning",
                    params={"id": theme.id},
                )
            )

    lineage = ancestors({t.id: t.parent for t in needs_file.territories})
    for i, territory in _indexed(needs_source, "territories", needs_file.territories):
        # a need of a territory inside this one (a région's métropole) counts too
        need_themes = {
            t
            for n in needs_file.needs
            if n.territory == territory.id or territory.id in lineage.get(n.territory, ())
            for t in n.themes
        }
        covered = with_ancestors(need_themes)
        for j, theme_id in enumerate(territory.priority_themes):
            if theme_id in known_themes and theme_id not in covered:
                problems.append(
                    needs_source.problem(
                        ("territories", i, "priority_themes", j),
                        N_(
                            "priority theme '{theme}' of territory '{territory}' has no need "
                            "recorded"
                        ),
                        severity="warning",
                        params={"theme": theme_id, "territory": territory.id},
                    )
                )

    entries = [
        (source, i, e.id, e.name, " ".join(fold(e.name).split()))
        for source, candidates in ((enterprises_source, enterprises_file), *more_enterprises)
        for i, e in _indexed(source, "enterprises", candidates.enterprises)
    ]
    for later, earlier in near_duplicates([folded for *_, folded in entries]):
        source, i, enterprise_id, name, _ = entries[later]
        other_source, j, other_id, _, _ = entries[earlier]
        if other_id == enterprise_id:
            continue  # a duplicate id: already an error
        first: Phrase | str = other_source.place(("enterprises", j, "name"))
        if other_source is not source and not other_source.by_path:
            first = f"{other_source.path}:{other_source.locate(('enterprises', j, 'name'))[0]}"
        problems.append(
            source.problem(
                ("enterprises", i, "name"),
                N_(
                    "enterprise name '{name}' is very close to '{other}' ({where}): the same "
                    "enterprise twice?"
                ),
                severity="warning",
                params={"name": name, "other": other_id, "where": first},
            )
        )
    return problems


_ARTICLES = ("les ", "le ", "la ", "l'", "l ")


def near_duplicates(names: list[str], cutoff: float = 90) -> list[tuple[int, int]]:
    """(later, earlier) index pairs of names at least ``cutoff`` alike (rapidfuzz ratio).

    Names are compared within blocks sharing their first letters (after an article), with
    rapidfuzz's cdist: near-duplicates almost always agree there, and a national directory
    of 100,000 names is checked in seconds instead of hours.
    """
    import numpy as np
    from rapidfuzz import fuzz, process

    blocks: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        key = name
        for article in _ARTICLES:
            if key.startswith(article):
                key = key[len(article) :]
                break
        blocks.setdefault(key[:3], []).append(index)
    pairs: dict[int, int] = {}
    for members in blocks.values():
        if len(members) < 2:
            continue
        texts = [names[m] for m in members]
        scores = process.cdist(texts, texts, scorer=fuzz.ratio, score_cutoff=cutoff, workers=-1)
        for a, b in zip(*np.nonzero(np.triu(scores, k=1)), strict=True):
            later, earlier = members[int(b)], members[int(a)]
            if later not in pairs or earlier < pairs[later]:
                pairs[later] = earlier
    return sorted(pairs.items())


def validate_documents(
    needs_doc: Document | None,
    enterprises_doc: Document | None,
    warnings: bool = True,
    more_enterprises: Sequence[Document | None] = (),
) -> Validated:
    """All three passes over two loaded documents (None: a file that could not be loaded)
    and the other candidate files ``more_enterprises``, whose enterprises join the first's
    (an id defined in two files is an error).

    ``warnings=False`` skips the last pass (findings that do not make the data unusable).
    """
    problems: list[Problem] = []
    needs_file = enterprises_file = None
    if needs_doc is not None:
        needs_file, more = validate_schema(needs_doc, NeedsFile)
        problems += more
    if enterprises_doc is not None:
        enterprises_file, more = validate_schema(enterprises_doc, EnterprisesFile)
        problems += more
    readable_needs = needs_doc if isinstance(getattr(needs_doc, "data", None), dict) else None
    readable_enterprises = (
        enterprises_doc if isinstance(getattr(enterprises_doc, "data", None), dict) else None
    )
    problems += check_references(readable_needs, readable_enterprises)
    known = known_ids(readable_needs)
    if known is not None:
        for document in (readable_enterprises, *more_enterprises):
            if document is not None and isinstance(document.data, dict):
                problems += check_selection_references(readable_needs, document, *known)
    others: list[tuple[SourceMap, EnterprisesFile]] = []
    complete = enterprises_file is not None
    for document in more_enterprises:
        if document is None:
            complete = False
            continue
        candidates, more = validate_schema(document, EnterprisesFile)
        problems += more
        if isinstance(document.data, dict):
            problems += check_enterprise_references(document, known_ids(readable_needs))
        if candidates is None:
            complete = False
        else:
            others.append((document.source, candidates))
    if more_enterprises:
        problems += duplicates_across(
            [
                d
                for d in (enterprises_doc, *more_enterprises)
                if d is not None and isinstance(d.data, dict)
            ]
        )
    if warnings and needs_file is not None and enterprises_file is not None and complete:
        assert needs_doc is not None and enterprises_doc is not None
        problems += check_warnings(
            needs_file, enterprises_file, needs_doc.source, enterprises_doc.source, others
        )
    if others and enterprises_file is not None:
        everything = [*enterprises_file.enterprises]
        for _, candidates in others:
            everything.extend(candidates.enterprises)
        enterprises_file = EnterprisesFile.model_construct(
            schema_version=SCHEMA_VERSION, enterprises=tuple(everything)
        )
    if not complete:
        enterprises_file = None
    return Validated(needs_file, enterprises_file, problems)
