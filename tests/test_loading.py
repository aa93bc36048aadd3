"""Load stage: bytes on disk -> plain data, and every way a file can fail to load.

Each invalid file of ``tests/data/invalid`` is checked through the real CLI: exit code 1,
no traceback, and the exact ``path:line:col: error: message`` lines a user would read.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from implant_match import dataset, loading
from implant_match.errors import DataError, Problem

from .profiles import examples

DATA = Path(__file__).parent / "data"
VALID_NEEDS = DATA / "valid" / "needs.yaml"
VALID_ENTERPRISES = DATA / "valid" / "enterprises.yaml"
BUNDLED_ENTERPRISES = Path(__file__).parents[1] / "data" / "enterprises.yaml"


def summary_for(errors: int, warnings: int = 0, files: int = 1) -> str:
    return (
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
        f"in {files} file{'s' * (files != 1)}"
    )


# -- the valid dataset ----------------------------------------------------------------------


def test_valid_dataset_has_no_problem(validate: Any) -> None:
    run = validate("valid/needs.yaml", "valid/enterprises.yaml")
    assert run.exit_code == 0
    assert run.lines == ["ok: no problems found"]


def test_valid_dataset_loads_as_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMPLANT_MATCH_MAX_BYTES", raising=False)
    data = dataset.load_dataset(VALID_NEEDS, VALID_ENTERPRISES)
    # the file's themes join the shipped taxonomy, and replace a shipped theme of its id
    assert {"garage-solidaire", "mobilites", "alimentation"} <= set(data.themes)
    assert data.themes["mobilites"].aliases == ("mobilité", "transport", "déplacements")
    assert data.themes["garage-solidaire"].parent == "mobilites"
    assert data.themes["mobilites"].label == "Mobilités"
    (territory,) = data.territories.values()
    assert territory.priority_themes == ("mobilites",)
    assert [a.id for a in territory.local_actors] == ["auto-ecole-sociale-die"]
    assert len(data.needs) == 2
    assert [e.id for e in data.enterprises] == [
        "garage-solidaire-du-hainaut",
        "rezo-pouce",
        "wimoov",
    ]
    assert data.warnings == []


# -- files that cannot be loaded (manifest) ---------------------------------------------------

# (case, enterprises file used with the valid needs.yaml, expected problem lines)
LOAD_CASES: list[tuple[str, str, list[str]]] = [
    (
        "yaml-syntax-error",
        "invalid/enterprises-syntax-error.yaml",
        [
            "invalid/enterprises-syntax-error.yaml:6:19: error: YAML syntax error: "
            "did not find expected key (while parsing a block mapping)"
        ],
    ),
    (
        "duplicate-key",
        "invalid/enterprises-duplicate-key.yaml",
        [
            "invalid/enterprises-duplicate-key.yaml:8:5: error: duplicate key 'name' "
            "(first defined on line 5) (remove or rename one of them)"
        ],
    ),
    (
        "empty-file",
        "invalid/enterprises-empty.yaml",
        ["invalid/enterprises-empty.yaml: error: file is empty: it holds no YAML data"],
    ),
    (
        "comments-only",
        "invalid/enterprises-comments-only.yaml",
        ["invalid/enterprises-comments-only.yaml: error: file is empty: it holds no YAML data"],
    ),
    (
        "alias-bomb",
        "invalid/enterprises-alias-bomb.yaml",
        [
            "invalid/enterprises-alias-bomb.yaml:8:12: error: aliases expand to too many "
            "values (an 'alias bomb'?); write the data out instead of using '*' references"
        ],
    ),
    (
        "python-tag",
        "invalid/enterprises-python-tag.yaml",
        [
            "invalid/enterprises-python-tag.yaml:5:11: error: tag "
            "'!!python/object/apply:os.system' is not allowed (data files hold plain values only)"
        ],
    ),
    (
        "deep-nesting",
        "invalid/enterprises-deep-nesting.yaml",
        [
            "invalid/enterprises-deep-nesting.yaml:5:52: error: data is nested more than "
            "40 levels deep"
        ],
    ),
    (
        "no-such-file",
        "invalid/enterprises-does-not-exist.yaml",
        ["invalid/enterprises-does-not-exist.yaml: error: no such file"],
    ),
    (
        "several-documents",
        "invalid/enterprises-several-documents.yaml",
        [
            "invalid/enterprises-several-documents.yaml:26:1: error: file holds several YAML "
            "documents ('---'); expected exactly one"
        ],
    ),
]


@pytest.mark.parametrize(
    ("enterprises", "expected"),
    [pytest.param(f, lines, id=case) for case, f, lines in LOAD_CASES],
)
def test_unloadable_file_is_reported(validate: Any, enterprises: str, expected: list[str]) -> None:
    run = validate("valid/needs.yaml", enterprises)
    assert run.exit_code == 1
    assert run.problem_lines == expected
    assert run.summary == summary_for(len(expected))
    assert run.stderr == ""


def test_manifest_covers_every_load_case_file() -> None:
    for case, name, _ in LOAD_CASES:
        if case not in ("no-such-file", "folder-instead-of-file"):
            assert (DATA / name).is_file(), name


def test_yaml_syntax_error_in_needs_file(validate: Any) -> None:
    run = validate("invalid/needs-syntax-error.yaml", "valid/enterprises.yaml")
    assert run.exit_code == 1
    assert run.problem_lines[0] == (
        "invalid/needs-syntax-error.yaml:7:3: error: YAML syntax error: did not find "
        "expected ',' or ']' (while parsing a flow sequence)"
    )


def test_unloadable_needs_file_does_not_blame_enterprises(validate: Any) -> None:
    run = validate("invalid/needs-syntax-error.yaml", "valid/enterprises.yaml")
    assert run.problem_lines == [
        "invalid/needs-syntax-error.yaml:7:3: error: YAML syntax error: did not find "
        "expected ',' or ']' (while parsing a flow sequence)"
    ]


# -- encodings --------------------------------------------------------------------------------

SMALL_ENTERPRISES = (
    "schema_version: 1\n"
    "enterprises:\n"
    "  - id: wimoov\n"
    '    name: "Wimoov"\n'
    '    description: "Plateformes de mobilité."\n'
    "    themes: [mobilites]\n"
    '    origin: "Paris"\n'
)


@pytest.fixture
def encoded_files(tmp_path: Path) -> Path:
    """The same small enterprises file saved in several encodings."""
    (tmp_path / "latin1.yaml").write_bytes(SMALL_ENTERPRISES.encode("latin-1"))
    (tmp_path / "utf16.yaml").write_bytes(SMALL_ENTERPRISES.encode("utf-16"))  # with a BOM
    (tmp_path / "utf16-be.yaml").write_bytes(b"\xfe\xff" + SMALL_ENTERPRISES.encode("utf-16-be"))
    (tmp_path / "utf8-bom.yaml").write_bytes(SMALL_ENTERPRISES.encode("utf-8-sig"))
    (tmp_path / "utf8.yaml").write_bytes(SMALL_ENTERPRISES.encode("utf-8"))
    return tmp_path


ENCODING_CASES = [
    (
        "latin1.yaml",
        "latin1.yaml:5:41: error: file is not valid UTF-8 (byte 0xe9); it looks like "
        "Windows-1252/Latin-1 (save it as 'UTF-8' in your editor)",
    ),
    (
        "utf16.yaml",
        "utf16.yaml:1:1: error: file is encoded as UTF-16, not UTF-8 "
        "(save it as 'UTF-8' in your editor)",
    ),
    (
        "utf16-be.yaml",
        "utf16-be.yaml:1:1: error: file is encoded as UTF-16, not UTF-8 "
        "(save it as 'UTF-8' in your editor)",
    ),
]


@pytest.mark.parametrize(
    ("name", "expected"), ENCODING_CASES, ids=["latin-1", "utf-16", "utf-16-be"]
)
def test_badly_encoded_file_is_reported(
    validate: Any, encoded_files: Path, name: str, expected: str
) -> None:
    run = validate(VALID_NEEDS, name, cwd=encoded_files)
    assert run.exit_code == 1
    assert run.problem_lines == [expected]
    assert run.summary == summary_for(1)


@pytest.mark.parametrize("name", ["utf8.yaml", "utf8-bom.yaml"])
def test_utf8_with_or_without_bom_is_accepted(
    validate: Any, encoded_files: Path, name: str
) -> None:
    run = validate(VALID_NEEDS, name, cwd=encoded_files)
    assert run.exit_code == 0
    assert run.lines == ["ok: no problems found"]


def test_decode_locates_the_first_bad_byte() -> None:
    with pytest.raises(DataError) as caught:
        loading.decode(b"a: 1\nb: caf\xe9\n", "x.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (2, 7)
    assert problem.message == (
        "file is not valid UTF-8 (byte 0xe9); it looks like Windows-1252/Latin-1"
    )
    assert problem.hint == "save it as 'UTF-8' in your editor"


def test_decode_strips_a_utf8_bom() -> None:
    assert loading.decode("\ufeffa: é".encode(), "x.yaml") == "a: é"


# -- code execution through tags ----------------------------------------------------------------


def test_python_tag_runs_nothing_in_process(validate: Any, tmp_path: Path) -> None:
    shutil.copy(DATA / "invalid" / "enterprises-python-tag.yaml", tmp_path / "enterprises.yaml")
    run = validate(VALID_NEEDS, "enterprises.yaml", cwd=tmp_path)
    assert run.exit_code == 1
    assert run.problem_lines == [
        "enterprises.yaml:5:11: error: tag '!!python/object/apply:os.system' is not allowed "
        "(data files hold plain values only)"
    ]
    # the tag asks os.system to run "touch pwned-by-yaml" in the current folder
    assert not (tmp_path / "pwned-by-yaml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["enterprises.yaml"]


@pytest.mark.slow
def test_python_tag_runs_nothing_in_a_real_process(validate_process: Any, tmp_path: Path) -> None:
    shutil.copy(DATA / "invalid" / "enterprises-python-tag.yaml", tmp_path / "enterprises.yaml")
    run = validate_process(VALID_NEEDS, "enterprises.yaml", cwd=tmp_path)
    assert run.exit_code == 1
    assert run.problem_lines == [
        "enterprises.yaml:5:11: error: tag '!!python/object/apply:os.system' is not allowed "
        "(data files hold plain values only)"
    ]
    assert not (tmp_path / "pwned-by-yaml").exists()


@pytest.mark.parametrize(
    "document",
    [
        'x: !!python/object/apply:os.system ["touch pwned-by-yaml"]\n',
        "x: !!python/object/apply:os.system\n  args: [touch pwned-by-yaml]\n",
        'x: !!python/object/new:os.system ["touch pwned-by-yaml"]\n',
        "x: !!python/name:os.system ''\n",
        "x: !!python/object/apply:os.system touch pwned-by-yaml\n",
        "x: !custom 'touch pwned-by-yaml'\n",
    ],
)
def test_unsafe_tags_are_refused_and_run_nothing(
    document: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError) as caught:
        loading.parse_document(document, "x.yaml")
    (problem,) = caught.value.problems
    assert problem.is_error
    assert (problem.line, problem.column) == (1, 4)
    assert "is not allowed" in problem.message
    assert list(tmp_path.iterdir()) == []


# -- size limit -------------------------------------------------------------------------------


@pytest.fixture
def oversized(tmp_path: Path) -> tuple[Path, int]:
    """A valid enterprises file one byte over a limit that the valid needs file fits in."""
    limit = max(VALID_NEEDS.stat().st_size, VALID_ENTERPRISES.stat().st_size)
    text = VALID_ENTERPRISES.read_text(encoding="utf-8")
    padding = limit + 1 - len(text.encode("utf-8"))
    (tmp_path / "enterprises.yaml").write_text(text + "#" * (padding - 1) + "\n", "utf-8")
    assert (tmp_path / "enterprises.yaml").stat().st_size == limit + 1
    return tmp_path, limit


def test_oversized_file_is_refused(validate: Any, oversized: tuple[Path, int]) -> None:
    folder, limit = oversized
    run = validate(
        VALID_NEEDS, "enterprises.yaml", cwd=folder, env={"IMPLANT_MATCH_MAX_BYTES": str(limit)}
    )
    assert run.exit_code == 1
    (line,) = run.problem_lines
    assert line.startswith("enterprises.yaml: error: file is larger than the ")
    assert line.endswith(
        "(set IMPLANT_MATCH_MAX_BYTES to a larger number of bytes if it is genuine)"
    )
    assert run.summary == summary_for(1)


def test_file_exactly_at_the_limit_is_accepted(validate: Any, oversized: tuple[Path, int]) -> None:
    folder, limit = oversized
    run = validate(
        VALID_NEEDS, "enterprises.yaml", cwd=folder, env={"IMPLANT_MATCH_MAX_BYTES": str(limit + 1)}
    )
    assert run.exit_code == 0
    assert run.lines == ["ok: no problems found"]


@pytest.mark.parametrize("value", ["", "abc", "0", "-5", "1.5"])
def test_unusable_size_limit_falls_back_to_the_default(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPLANT_MATCH_MAX_BYTES", value)
    assert loading.max_bytes() == loading.DEFAULT_MAX_BYTES


def test_oversized_message_states_the_real_limit(
    validate: Any, oversized: tuple[Path, int]
) -> None:
    folder, limit = oversized
    run = validate(
        VALID_NEEDS, "enterprises.yaml", cwd=folder, env={"IMPLANT_MATCH_MAX_BYTES": str(limit)}
    )
    (line,) = run.problem_lines
    assert "0 MiB" not in line


# -- parse_document and resolve_plain -------------------------------------------------------------

YAML11_SCALARS = [
    ("yes", "the boolean true"),
    ("no", "the boolean false"),
    ("on", "the boolean true"),
    ("off", "the boolean false"),
    ("y", "the boolean true"),
    ("n", "the boolean false"),
    ("Yes", "the boolean true"),
    ("NO", "the boolean false"),
    ("Off", "the boolean false"),
    ("0123", "a number (octal, hexadecimal or with '_')"),
    ("0x1F", "a number (octal, hexadecimal or with '_')"),
    ("0b101", "a number (octal, hexadecimal or with '_')"),
    ("1_000", "a number (octal, hexadecimal or with '_')"),
    (".inf", "a number (octal, hexadecimal or with '_')"),
    ("-.inf", "a number (octal, hexadecimal or with '_')"),
    (".nan", "a number (octal, hexadecimal or with '_')"),
    ("1:30", "a base-60 number"),
    ("08:30", "a base-60 number"),
    ("-1:30:00", "a base-60 number"),
    ("2024-01-01", "a date"),
    ("2024-1-1 10:00", "a date"),
]


@pytest.mark.parametrize(("text", "reading"), YAML11_SCALARS)
def test_yaml11_surprises_stay_as_written(text: str, reading: str) -> None:
    value = loading.resolve_plain(text)
    assert isinstance(value, loading.Yaml11Scalar)
    assert value.text == text
    assert str(value) == text
    assert value.yaml11_reading == reading


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("+3", 3),
        ("2016", 2016),
        ("3.14", 3.14),
        ("-.5", -0.5),
        ("2.", 2.0),
        ("1e3", 1000.0),
        ("6.02E+23", 6.02e23),
        ("", None),
        ("~", None),
        ("null", None),
        ("NULL", None),
        ("Lyon", "Lyon"),
        ("mobilites", "mobilites"),
        ("yes please", "yes please"),
        ("1.2.3", "1.2.3"),
        ("Métropole de Lyon", "Métropole de Lyon"),
    ],
)
def test_plain_scalars_resolve_the_yaml12_way(text: str, expected: object) -> None:
    value = loading.resolve_plain(text)
    assert value == expected
    assert type(value) is type(expected)


def test_parse_document_keeps_quoted_text_and_yaml11_words_apart() -> None:
    document = loading.parse_document(
        "a: no\nb: \"no\"\nc: 0123\nd: '0123'\ne: 1:30\nf: 2024-01-01\ng: true\nh: 12\n"
        "i: 1.5\nj:\n",
        "x.yaml",
    )
    data = document.data
    assert data["a"] == loading.Yaml11Scalar("no", "the boolean false")
    assert data["b"] == "no"
    assert isinstance(data["c"], loading.Yaml11Scalar)
    assert data["d"] == "0123"
    assert isinstance(data["e"], loading.Yaml11Scalar)
    assert isinstance(data["f"], loading.Yaml11Scalar)
    assert (data["g"], data["h"], data["i"], data["j"]) == (True, 12, 1.5, None)


def test_explicit_core_tags_resolve() -> None:
    data = loading.parse_document("a: !!str 12\nb: !!int 12\nc: !!float 1.5\n", "x.yaml").data
    assert data == {"a": "12", "b": 12, "c": 1.5}
    assert type(data["b"]) is int


@pytest.mark.parametrize(
    "document", ["a: !!int douze\n", "a: !!bool 12\n", "a: !!int 1.5\n", "a: !!null x\n"]
)
def test_value_contradicting_its_core_tag_is_refused(document: str) -> None:
    with pytest.raises(DataError) as caught:
        loading.parse_document(document, "x.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (1, 4)
    assert "is not a valid" in problem.message


def test_source_map_points_at_values_and_keys() -> None:
    text = "schema_version: 1\nthemes:\n  - id: mobilites\n    label: Mobilités\n"
    document = loading.parse_document(text, "needs.yaml")
    source = document.source
    assert source.path == "needs.yaml"
    assert source.locate(("themes", 0, "id")) == (3, 9)
    assert source.locate(("themes", 0, "label"), key=True) == (4, 5)
    assert source.locate(("themes", 0, "label")) == (4, 12)
    # an unknown place falls back on its nearest known ancestor
    assert source.locate(("themes", 0, "parent")) == (3, 5)
    assert source.locate(("nowhere",)) == (1, 1)


def test_source_map_follows_nested_lists_and_mappings() -> None:
    text = "a:\n  - [x, {y: 1, z: [2, 3]}]\n  - k: v\nb: &anchor {c: 1}\nd: *anchor\n"
    source = loading.parse_document(text, "x.yaml").source
    assert source.locate(()) == (1, 1)
    assert source.locate(("a",)) == (2, 3)
    assert source.locate(("a",), key=True) == (1, 1)
    assert source.locate(("a", 0)) == (2, 5)
    assert source.locate(("a", 0, 1, "z", 1)) == (2, 23)
    assert source.locate(("a", 0, 1, "z"), key=True) == (2, 16)
    # a list item has no key: key=True gives the item itself
    assert source.locate(("a", 0, 1, "z", 1), key=True) == (2, 23)
    assert source.locate(("a", 1, "k"), key=True) == (3, 5)
    assert source.locate(("b", "c")) == (4, 16)
    # what an alias holds has no position of its own: the alias stands for it
    assert source.locate(("d", "c")) == (5, 4)
    # a missing item, an index into a mapping, a key into a list: the nearest ancestor
    assert source.locate(("a", 2)) == (2, 3)
    assert source.locate(("a", -1)) == (2, 3)
    assert source.locate(("a", "0")) == (2, 3)
    assert source.locate((0,)) == (1, 1)
    assert source.locate(("a", 0, 0, "x")) == (2, 6)


def test_source_map_finds_keys_of_a_big_mapping() -> None:
    text = "".join(f"k{i}: {i}\n" for i in range(100))
    source = loading.parse_document(text, "x.yaml").source
    assert source.locate(("k0",)) == (1, 5)
    assert source.locate(("k99",), key=True) == (100, 1)
    assert source.locate(("k100",)) == (1, 1)


def test_dropped_positions_point_at_the_start() -> None:
    source = loading.parse_document("a:\n  b: 1\n", "x.yaml").source
    source.drop_positions()
    assert source.locate(("a", "b")) == (1, 1)
    assert source.problem(("a",), "boom").format() == "x.yaml:1:1: error: boom"


def test_bom_changes_no_position(tmp_path: Path) -> None:
    text = "a:\n  - x\n  - {b: 1}\n"
    plain, with_bom = tmp_path / "plain.yaml", tmp_path / "bom.yaml"
    plain.write_bytes(text.encode())
    with_bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    first, second = loading.load_document(plain), loading.load_document(with_bom)
    assert first.data == second.data == loading.parse_document(text, "x.yaml").data
    for loc in [(), ("a",), ("a", 1), ("a", 1, "b")]:
        assert first.source.locate(loc) == second.source.locate(loc)
        assert first.source.locate(loc, key=True) == second.source.locate(loc, key=True)


def test_repeated_texts_are_one_object() -> None:
    # a directory repeats its keys and many values: one copy of each keeps memory down
    text = 'r:\n  - {id: "a", form: "association"}\n  - {id: "b", form: "association"}\n'
    first, second = loading.parse_document(text, "x.yaml").data["r"]
    assert first == {"id": "a", "form": "association"}
    assert all(k1 is k2 for k1, k2 in zip(first, second, strict=True))
    assert first["form"] is second["form"]


def test_duplicate_key_after_nested_values_names_the_first_line() -> None:
    text = "a:\n  x: [1, {y: 2}]\n  z: {w: 1}\n  x: 3\nb: 1\nb: [2]\n"
    with pytest.raises(DataError) as caught:
        loading.parse_document(text, "x.yaml")
    assert [p.format() for p in caught.value.problems] == [
        "x.yaml:4:3: error: duplicate key 'x' (first defined on line 2) "
        "(remove or rename one of them)",
        "x.yaml:6:1: error: duplicate key 'b' (first defined on line 5) "
        "(remove or rename one of them)",
    ]


def test_anchors_and_aliases_within_bounds_are_fine() -> None:
    text = "base: &b [mobilites, velo]\nother: *b\n"
    assert loading.parse_document(text, "x.yaml").data == {
        "base": ["mobilites", "velo"],
        "other": ["mobilites", "velo"],
    }


def test_unknown_alias_is_reported() -> None:
    with pytest.raises(DataError) as caught:
        loading.parse_document("a: *nowhere\n", "x.yaml")
    assert [p.format() for p in caught.value.problems] == [
        "x.yaml:1:4: error: unknown alias '*nowhere'"
    ]


def test_mapping_as_key_is_refused() -> None:
    with pytest.raises(DataError) as caught:
        loading.parse_document("? [a, b]\n: c\n", "x.yaml")
    (problem,) = caught.value.problems
    assert problem.message == "a mapping key must be a plain word, not a list or mapping"


def test_every_duplicate_key_is_reported_in_line_order() -> None:
    text = "a: 1\nb: 2\na: 3\nc:\n  d: 1\n  d: 2\n"
    with pytest.raises(DataError) as caught:
        loading.parse_document(text, "x.yaml")
    assert [p.format() for p in caught.value.problems] == [
        "x.yaml:3:1: error: duplicate key 'a' (first defined on line 1) "
        "(remove or rename one of them)",
        "x.yaml:6:3: error: duplicate key 'd' (first defined on line 5) "
        "(remove or rename one of them)",
    ]


def test_deep_nesting_is_refused_without_recursion() -> None:
    text = "a: " + "[" * 200 + "]" * 200 + "\n"
    with pytest.raises(DataError) as caught:
        loading.parse_document(text, "x.yaml")
    (problem,) = caught.value.problems
    assert problem.message == "data is nested more than 40 levels deep"


def test_nesting_at_the_limit_is_accepted() -> None:
    depth = loading.MAX_DEPTH - 1  # the root mapping is the first level
    value = loading.parse_document("a: " + "[" * depth + "]" * depth + "\n", "x.yaml").data["a"]
    for _ in range(depth - 1):
        (value,) = value
    assert value == []
    with pytest.raises(DataError):
        loading.parse_document("a: " + "[" * (depth + 1) + "]" * (depth + 1) + "\n", "x.yaml")


def test_problem_format() -> None:
    assert Problem("f.yaml", 3, 7, "error", "boom", "hint").format() == (
        "f.yaml:3:7: error: boom (hint)"
    )
    assert Problem("f.yaml", 3, 0, "warning", "hm").format() == "f.yaml:3: warning: hm"
    assert Problem("f.yaml", 0, 0, "error", "empty").format() == "f.yaml: error: empty"


def test_data_error_sorts_its_problems() -> None:
    error = DataError(
        [
            Problem("b.yaml", 1, 1, "error", "z"),
            Problem("a.yaml", 9, 1, "warning", "w"),
            Problem("a.yaml", 9, 1, "error", "e"),
            Problem("a.yaml", 2, 5, "error", "first"),
        ]
    )
    assert [p.format() for p in error.problems] == [
        "a.yaml:2:5: error: first",
        "a.yaml:9:1: error: e",
        "a.yaml:9:1: warning: w",
        "b.yaml:1:1: error: z",
    ]
    assert str(error) == "a.yaml:2:5: error: first"


def test_huge_integer_is_a_data_error() -> None:
    # too many digits to be a number: kept as text, which the schema then refuses
    document = loading.parse_document("founded: " + "9" * 5000 + "\n", "x.yaml")
    assert document.data["founded"] == "9" * 5000


def test_control_character_is_located_on_one_line() -> None:
    with pytest.raises(DataError) as caught:
        loading.parse_document("a: 1\nb: \x01\n", "x.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (2, 4)
    assert "\n" not in problem.message
    assert "<unicode string>" not in problem.message


# -- property tests: nothing but DataError, whatever the input ----------------------------------


def _decode_and_parse(raw: bytes) -> None:
    try:
        document = loading.parse_document(loading.decode(raw, "x.yaml"), "x.yaml")
    except DataError as exc:
        assert exc.problems
        assert all(p.path == "x.yaml" and p.is_error for p in exc.problems)
        return
    assert document.data is not None
    assert document.source.path == "x.yaml"


def _inspect(raw: bytes, folder: Path, as_needs: bool) -> None:
    """Run the whole load -> validate path with ``raw`` as one file, the other one valid."""
    target = folder / "fuzz.yaml"
    target.write_bytes(raw)
    paths = (
        dataset.DataPaths(target, VALID_ENTERPRISES)
        if as_needs
        else dataset.DataPaths(VALID_NEEDS, target)
    )
    try:
        inspection = dataset.inspect_files(paths)
    except DataError:
        return
    if inspection.dataset is None:
        assert inspection.errors
    else:
        assert not inspection.errors


YAMLISH = st.lists(
    st.sampled_from(
        [
            "schema_version: 1\n",
            "themes:\n",
            "territories:\n",
            "needs:\n",
            "enterprises:\n",
            "  - id: mobilites\n",
            "    label: Mobilités\n",
            "    parent: mobilites\n",
            "    name: no\n",
            "    themes: [mobilites]\n",
            "    territory: pays-diois\n",
            "- ",
            "[",
            "]",
            "{",
            "}",
            ": ",
            ", ",
            "&a ",
            "*a ",
            "!!int ",
            "!!str ",
            "!x ",
            "? ",
            "1:30",
            "0123",
            "~",
            "\n",
            "  ",
            "'",
            '"',
            "# ",
            "---\n",
            "<<: *a\n",
            "é",
            "\t",
            "\ufeff",
        ]
    ),
    max_size=40,
).map("".join)

FUZZ = settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(raw=st.binary())
def test_arbitrary_bytes_only_raise_data_error(raw: bytes) -> None:
    _decode_and_parse(raw)


@FUZZ
@given(text=st.text())
def test_arbitrary_text_only_raises_data_error(text: str) -> None:
    _decode_and_parse(text.encode("utf-8"))
    with contextlib.suppress(DataError):
        loading.parse_document(text, "x.yaml")


@FUZZ
@given(text=YAMLISH)
def test_yaml_like_text_only_raises_data_error(text: str) -> None:
    _decode_and_parse(text.encode("utf-8"))


@FUZZ
@given(raw=st.binary(), as_needs=st.booleans())
def test_inspect_files_on_arbitrary_bytes(raw: bytes, as_needs: bool, tmp_path: Path) -> None:
    _inspect(raw, tmp_path, as_needs)


@FUZZ
@given(text=st.one_of(st.text(), YAMLISH), as_needs=st.booleans())
def test_inspect_files_on_arbitrary_text(text: str, as_needs: bool, tmp_path: Path) -> None:
    _inspect(text.encode("utf-8"), tmp_path, as_needs)


def test_warnings_are_checked_only_when_asked() -> None:
    from implant_match.dataset import DataPaths, load_dataset

    data = Path(__file__).parent / "data"
    paths = DataPaths(
        data / "valid/needs.yaml", data / "invalid/enterprises-warning-near-duplicate-names.yaml"
    )
    found = load_dataset(paths.needs, paths.enterprises).warnings
    assert [p.message for p in found] == [
        "enterprise name 'WIMOOV' is very close to 'wimoov' (line 5): the same enterprise twice?"
    ]
    quiet = load_dataset(paths.needs, paths.enterprises, warnings=False)
    assert quiet.warnings == []
    assert [e.id for e in quiet.enterprises] == [
        e.id for e in load_dataset(paths.needs, paths.enterprises).enterprises
    ]


def test_a_huge_size_limit_costs_no_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """IMPLANT_MATCH_MAX_BYTES=30000000000 failed every command with a bare MemoryError:
    the whole limit was allocated before reading a single byte."""
    monkeypatch.setenv("IMPLANT_MATCH_MAX_BYTES", str(30 * 10**9))
    assert loading.max_bytes() == 30 * 10**9
    path = tmp_path / "needs.yaml"
    path.write_bytes(b"schema_version: 1\n" * 1000)
    assert loading.read_bytes(path) == path.read_bytes()


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 5000])
@pytest.mark.parametrize("seekable", [True, False])
def test_read_at_most_stops_one_byte_past_the_limit(
    tmp_path: Path, size: int, seekable: bool
) -> None:
    import io

    data = bytes(range(256)) * 20
    data = data[:size]
    path = tmp_path / "file"
    path.write_bytes(data)
    with path.open("rb") as handle:
        source = handle if seekable else io.BufferedReader(io.BytesIO(data))  # no fileno: a pipe
        raw = loading.read_at_most(source, 100)
    assert raw == data[:101]


TAB_CASES = {
    "a tab alone": ("themes:\n  - id: a\n\tlabel: A\n", 3, 1),
    "a tab before a list item": ("themes:\n\t- id: a\n", 2, 1),
    "spaces then a tab": ("themes:\n  - id: a\n    \tlabel: A\n", 3, 5),
    "two tabs": ("themes:\n  - id: a\n\t\tlabel: A\n", 3, 1),
    "every indent a tab": ("themes:\n\t- id: a\n\t\tlabel: A\n", 2, 1),
}


@pytest.mark.parametrize("case", TAB_CASES)
def test_a_tab_in_the_indentation_is_called_a_tab(case: str) -> None:
    """PyYAML says "tab" for one of these; "cannot start any token" for the others."""
    text, line, column = TAB_CASES[case]
    with pytest.raises(DataError) as caught:
        loading.parse_document("schema_version: 1\n" + text, "needs.yaml")
    problem = caught.value.problems[0]  # every tab of the file is said, the first first
    assert all("a tab in the indentation" in p.message for p in caught.value.problems)
    assert (problem.line, problem.column) == (line + 1, column)
    assert problem.message == "YAML syntax error: a tab in the indentation"
    assert problem.hint == "indent with spaces: YAML does not allow tabs there"


def test_other_syntax_errors_keep_their_message() -> None:
    with pytest.raises(DataError) as caught:
        loading.parse_document("schema_version: 1\nthemes: [a\n", "needs.yaml")
    assert "tab" not in caught.value.problems[0].message
