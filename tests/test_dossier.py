"""The committee dossier: its data (``dossier``), its HTML (``dossier_html``) and the
``report`` command, parsed as a browser would and checked against ``rank --format json``."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import html as lxml_html
from typer.testing import CliRunner

import implant_match as im
from implant_match.cli import app
from implant_match.dossier import LEVELS, web_link
from implant_match.dossier_html import (
    bar_segments,
    heat_class,
    number_format,
    render_report,
    signed_format,
)
from implant_match.i18n import language

from .factories import (
    ROOT,
    bundled,
    bundled_dataset,
    enterprises_document,
    make_dataset,
    needs_document,
)

NEEDS, ENTERPRISES = bundled().needs, bundled().enterprises
DATA_ARGS = ["--needs", str(NEEDS), "--enterprises", str(ENTERPRISES)]
ENV = {"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
HOSTILE = "<script>alert(1)</script>"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=ENV)
    return result.exit_code, result.stdout, result.stderr


@cache
def engine() -> im.Engine:
    return im.Engine(bundled_dataset())


@cache
def bundled_html(lang: str = "fr", cohort: int | None = None) -> str:
    report = im.report(engine(), top=5, cohort=cohort, created=date(2026, 5, 4))
    return render_report(report, language(lang))


def parse(text: str) -> Any:
    return lxml_html.document_fromstring(text)


@cache
def rank_json(*args: str) -> list[dict[str, Any]]:
    code, out, _ = run("rank", *DATA_ARGS, "--format", "json", *args)
    assert code == 0
    records: list[dict[str, Any]] = json.loads(out)
    return records


def select(element: Any, selector: str) -> list[Any]:
    """The elements matching a small CSS selector: ``tag.class`` steps, descendants,
    alternatives after commas (lxml's own ``cssselect`` needs another package)."""
    found: list[Any] = []
    for alternative in selector.split(","):
        path = "."
        for step in alternative.split():
            tag, _, cls = step.partition(".")
            path += f"//{tag or '*'}"
            if cls:
                path += f"[contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')]"
        found += element.xpath(path)
    return found


def external_urls(doc: Any) -> set[str]:
    """Every address the page could load or follow, other than its own anchors."""
    found = set()
    for element in doc.iter():
        for name in ("href", "src", "action", "formaction", "data", "poster", "srcset"):
            value = element.get(name)
            if value is not None and not value.startswith("#"):
                found.add(value)
    return found


# -- structure -------------------------------------------------------------------------


def test_one_section_per_need_with_one_card_per_ranked_candidate() -> None:
    doc = parse(bundled_html())
    records = rank_json()
    expected: dict[str, list[str]] = {}
    for r in records:
        expected.setdefault(r["need_id"], []).append(r["enterprise_id"])
    sections = select(doc, "section.need")
    assert [s.get("data-need") for s in sections] == list(expected)
    titles = {r["need_id"]: r["need_title"] for r in records}
    for section in sections:
        need_id = section.get("data-need")
        cards = select(section, "article.card")
        assert [c.get("data-enterprise") for c in cards] == expected[need_id]
        assert select(section, "h2")[0].text_content() == titles[need_id]
        assert all(select(c, ".decision") for c in cards)  # a box to decide on paper


def test_no_script_and_no_address_but_the_enterprises_websites() -> None:
    page = bundled_html("fr", 4)
    doc = parse(page)
    assert not select(doc, "script, img, iframe, object, embed, link, form")
    assert not [e for e in doc.iter() for a in e.attrib if a.lower().startswith("on")]
    websites = {e.website for e in bundled_dataset().enterprises if e.website}
    urls = external_urls(doc)
    assert urls and urls <= websites
    assert all(u.startswith(("http://", "https://")) for u in urls)
    assert "@import" not in page and "url(" not in page.replace("url(#hatch)", "")


def test_card_scores_equal_the_json_of_rank() -> None:
    doc = parse(bundled_html())
    shown = {
        (s.get("data-need"), c.get("data-enterprise")): c.get("data-score")
        for s in select(doc, "section.need")
        for c in select(s, "article.card")
    }
    assert shown == {(r["need_id"], r["enterprise_id"]): f"{r['score']:.2f}" for r in rank_json()}


def test_heat_map_cells_equal_the_json_of_rank() -> None:
    doc = parse(bundled_html())
    table = doc.get_element_by_id("heatmap")
    columns = [th.get("data-enterprise") for th in select(table, "thead th.ent")]
    assert 0 < len(columns) <= 12
    scores = {(r["need_id"], r["enterprise_id"]): r["score"] for r in rank_json()}
    framed = 0
    rows = table.xpath(".//tbody/tr[@data-need]")
    assert [r.get("data-need") for r in rows] == list(dict.fromkeys(n for n, _ in scores))
    for row in rows:
        need_id = row.get("data-need")
        for enterprise_id, cell in zip(columns, select(row, "td"), strict=True):
            pair = (need_id, enterprise_id)
            if pair in scores:  # every shortlisted pair is framed, with rank's score
                assert "in" in cell.get("class").split()
                assert cell.get("data-score") == f"{scores[pair]:.2f}"
                # the cell rounds the score, the JSON's 2 decimals are rounded already
                assert abs(float(cell.text_content()) - scores[pair]) <= 0.505
                framed += 1
            else:
                assert "in" not in (cell.get("class") or "").split()
    assert framed >= len(rows)  # most needs' candidates are among the columns


def test_heat_map_columns_put_the_promotion_first() -> None:
    report = im.report(engine(), cohort=3)
    assert report.promotion is not None
    members = [m.enterprise.id for m in report.promotion.members]
    assert [e.id for e in report.heatmap.enterprises][:3] == members
    doc = parse(render_report(report, language("fr")))
    rows = select(doc.get_element_by_id("cohort-members"), "tbody tr")
    assert len(rows) == 3
    cohort = im.cohort(engine(), 3)
    assert [m.enterprise_id for m in cohort.enterprises] == members
    uncovered = select(doc.get_element_by_id("cohort-uncovered"), "li")
    assert len(uncovered) == len(cohort.uncovered)


def test_the_promotions_near_ties_are_those_of_im_cohort() -> None:
    names = {e.id: e.name for e in engine().dataset.enterprises}
    report = im.report(engine(), cohort=3, tolerance=0.05)
    cohort = im.cohort(engine(), 3, tolerance=0.05)
    assert cohort.alternatives  # the bundled data has swaps within 5 %
    rows = select(
        parse(render_report(report, language("en"))).get_element_by_id("cohort-near-ties"),
        "tbody tr",
    )
    shown = [[cell.text_content().strip() for cell in row] for row in rows]
    assert [row[:2] for row in shown] == [
        [names[a.leaves], names[a.joins]] for a in cohort.alternatives
    ]
    assert [float(row[2]) for row in shown] == [round(a.objective, 2) for a in cohort.alternatives]
    assert all(0 <= float(row[3].rstrip(" %\u00a0")) <= 5 for row in shown)
    # none within a tolerance of 0: the dossier says so
    strict = im.report(engine(), cohort=3, tolerance=0.0)
    page = parse(render_report(strict, language("fr")))
    assert "Aucune" in page.get_element_by_id("cohort-near-ties").text_content()


def test_levels_are_measured_on_the_best_candidates() -> None:
    report = im.report(engine())
    best: dict[str, float] = {}
    for r in rank_json():
        best.setdefault(r["need_id"], r["score"])
    for level in report.levels:
        assert level.needs == len(best)
        assert level.needs_reaching == sum(s >= level.score for s in best.values())
    assert [lv.score for lv in report.levels] == list(LEVELS)
    # a minimum score hides candidates, not the levels the data reaches
    hidden = im.report(engine(), min_score=60).levels
    assert [lv.needs_reaching for lv in hidden] == [lv.needs_reaching for lv in report.levels]
    assert [lv.cards_reaching == lv.cards for lv in hidden] == [lv.score <= 60 for lv in hidden]
    assert im.report(engine(), min_score=60).gaps == report.gaps


def test_gaps_are_those_of_im_gaps_for_the_selection() -> None:
    report = im.report(engine(), territory="metropole-lyon")
    gaps = im.gaps(engine(), territory="metropole-lyon")
    assert [g.need.id for g in report.gaps.needs] == [g.need.id for g in gaps.needs]
    assert report.gaps.priorities_without_need == gaps.priorities_without_need
    doc = parse(render_report(report, language("fr")))
    assert len(select(doc.get_element_by_id("gap-themes"), "li")) == len(
        gaps.priorities_without_need
    )


# -- words -----------------------------------------------------------------------------


def test_french_by_default_english_on_request() -> None:
    french, english = parse(bundled_html("fr")), parse(bundled_html("en"))
    assert french.get("lang") == "fr" and english.get("lang") == "en"
    assert select(french, "h1")[0].text_content() == "Dossier de comité"
    assert select(english, "h1")[0].text_content() == "Committee dossier"
    score = select(french, "article.card .score")[0].text_content()
    assert re.fullmatch(r"\d+,\d", score), score  # decimal comma
    assert "4 mai 2026" in select(french, ".cover")[0].text_content()


def test_evidence_sentences_are_read_off_the_match() -> None:
    report = im.report(engine(), need="formation-francais-refugies-lyon", top=1)
    card = report.sections[0].cards[0]
    match = card.ranked.match
    text = select(parse(render_report(report, language("fr"))), ".why")[0].text_content()
    for theme in match.matched_themes:
        assert report.themes[theme].label in text
    for term in match.matched_keywords[:3]:
        assert term in text
    for link in match.lexicon_links[:2]:
        assert link in text


def test_the_cover_fingerprints_the_data_files(tmp_path: Path) -> None:
    out = tmp_path / "dossier.html"
    code, _, err = run("report", str(out), *DATA_ARGS, "--need", "formation-francais-refugies-lyon")
    assert code == 0, err
    assert f"to {out}" in err
    import hashlib

    cover = select(parse(out.read_text(encoding="utf-8")), ".cover")[0].text_content()
    for path in (NEEDS, ENTERPRISES):
        assert hashlib.sha256(path.read_bytes()).hexdigest() in cover


# -- hostile values ----------------------------------------------------------------------


def hostile_dataset() -> im.Dataset:
    # deep copies: the factories' documents share the module's theme list
    needs = copy.deepcopy(needs_document())
    needs["territories"][0]["name"] = f"Lyon {HOSTILE}"
    needs["territories"][0]["local_actors"][0]["name"] = "<img src=x onerror=alert(2)>"
    needs["needs"][0]["title"] = f"Titre {HOSTILE}"
    needs["needs"][0]["description"] = "</style><script>alert(3)</script> cours de français"
    needs["themes"][4]["label"] = '"><script>alert(4)</script>'
    enterprises = copy.deepcopy(enterprises_document())
    enterprises["enterprises"][0].update(
        name=HOSTILE,
        website="javascript:alert(1)",
        impact="<a href='https://evil.example'>x</a>",
        legal_form="{{ 7 * 7 }}",
        origin="%(num)s %s",
    )
    enterprises["enterprises"][2].update(website="https://velo.example/ateliers?a=1&b=2")
    enterprises["enterprises"][1].update(website="  http://cantine.example")
    return make_dataset(needs, enterprises)


def test_hostile_values_are_shown_as_text_and_links_dropped() -> None:
    report = im.report(hostile_dataset(), created=date(2026, 1, 2))
    page = render_report(report, language("fr"))
    doc = parse(page)
    assert not select(doc, "script, img, iframe, object, embed, link")
    assert not [e for e in doc.iter() for a in e.attrib if a.lower().startswith("on")]
    assert external_urls(doc) == {  # the websites only (the model strips the spaces)
        "https://velo.example/ateliers?a=1&b=2",
        "http://cantine.example",
    }
    text = doc.text_content()
    assert HOSTILE in text  # the name, as text
    assert "javascript:alert(1)" in text and "{{ 7 * 7 }}" in text and "%(num)s %s" in text
    assert "<img src=x onerror=alert(2)>" in text
    assert "</style><script>alert(3)</script>" in text
    assert '"><script>alert(4)</script>' in text
    styles = select(doc, "style")
    assert len(styles) == 1 and "alert" not in styles[0].text_content()
    assert "@import" not in page and "url(" not in page.replace("url(#hatch)", "")


@pytest.mark.parametrize(
    ("address", "link"),
    [
        ("https://www.donsolidaires.fr", "https://www.donsolidaires.fr"),
        ("http://a.example/x?y=1&z=2", "http://a.example/x?y=1&z=2"),
        ("HTTPS://A.EXAMPLE", "HTTPS://A.EXAMPLE"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("www.example.fr", None),
        ("//example.fr", None),
        ("https://", None),
        ("https://exa mple.fr", None),
        ('https://example.fr/"onmouseover="x', None),
        ("vbscript:msgbox", None),
        (None, None),
    ],
)
def test_only_http_addresses_become_links(address: str | None, link: str | None) -> None:
    assert web_link(address) == link


# -- pieces ----------------------------------------------------------------------------


def test_the_stacked_bar_ends_at_the_score() -> None:
    report = im.report(engine(), top=5)
    for section in report.sections:
        for card in section.cards:
            match = card.ranked.match
            segments = bar_segments(match, 100.0)
            positive = [s for s in segments if s.points > 0]
            end = positive[-1].x + positive[-1].width if positive else 0.0
            penalty = sum(-s.points for s in segments if s.points < 0)
            parts = sum(c.points for c in match.components)
            assert end - penalty == pytest.approx(parts, abs=1e-9)


@pytest.mark.parametrize(
    ("score", "css"), [(None, "hx"), (0.0, "h0"), (9.99, "h0"), (50.0, "h5"), (100.0, "h9")]
)
def test_heat_classes(score: float | None, css: str) -> None:
    assert heat_class(score) == css


# -- the command -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dossier.pdf", "dossier.txt", "dossier"])
def test_a_report_is_written_as_html_only(tmp_path: Path, name: str) -> None:
    code, _, err = run("report", str(tmp_path / name), *DATA_ARGS)
    assert code == 2
    assert "print it to PDF from a browser" in err if name.endswith(".pdf") else ".html" in err
    assert not list(tmp_path.iterdir())


def test_a_report_into_a_missing_folder_is_said_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "dossier.html"
    code, _, err = run("report", str(out), *DATA_ARGS, "--need", "formation-francais-refugies-lyon")
    assert code == 1
    assert err.startswith("error: ") and "does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "missing").exists()


def test_report_takes_the_options_of_rank(tmp_path: Path) -> None:
    out = tmp_path / "lyon.html"
    args = ["--territory", "metropole-lyon", "--top", "2", "--weight", "themes=0.6"]
    code, _, err = run("report", str(out), *DATA_ARGS, *args, "--cohort", "2", "--lang", "en")
    assert code == 0, err
    doc = parse(out.read_text(encoding="utf-8"))
    shown = [
        (s.get("data-need"), c.get("data-enterprise"), c.get("data-score"))
        for s in select(doc, "section.need")
        for c in select(s, "article.card")
    ]
    records = rank_json(*args)
    assert shown == [(r["need_id"], r["enterprise_id"], f"{r['score']:.2f}") for r in records]
    assert doc.get_element_by_id("cohort") is not None
    assert select(doc, "h1")[0].text_content() == "Committee dossier"
    code, _, err = run("report", str(out), *DATA_ARGS, "--territory", "metropole-lyonn")
    assert code == 2 and "metropole-lyon" in err  # unknown ids suggest the right one


# -- in a browser ------------------------------------------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
IMAGES = ROOT / "docs" / "images"
UPDATE_IMAGES = os.environ.get("IMPLANT_MATCH_UPDATE_SCREENSHOTS") == "1"


def print_to_pdf(browser: str, page: Path, pdf: Path, profile: Path) -> None:
    """Print ``page`` to ``pdf`` as a user would from the print dialog, headless."""
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        page.as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=180)


@pytest.mark.slow
def test_the_report_prints_to_a4_pdf_in_a_headless_browser(tmp_path: Path) -> None:
    browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if browser is None:
        pytest.skip("no Chromium to print with: apt-get install -y chromium poppler-utils")
    if not (shutil.which("pdfinfo") and shutil.which("pdftotext")):
        pytest.skip("no pdfinfo/pdftotext to read the PDF: apt-get install -y poppler-utils")
    page, pdf = tmp_path / "dossier.html", tmp_path / "dossier.pdf"
    code, _, err = run("report", str(page), *DATA_ARGS, "--cohort", "4")
    assert code == 0, err
    print_to_pdf(browser, page, pdf, tmp_path / "profile")

    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]
    assert re.search(r"^Page size:.* pts \(A4\)$", info.stdout, re.M)
    titles = list(dict.fromkeys(r["need_title"] for r in rank_json()))
    # cover, overview (the heat map may take two pages), promotion, then a page per need
    assert 3 + len(titles) <= pages <= 5 + 2 * len(titles)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    sheets = [" ".join(sheet.split()) for sheet in text.split("\f")]
    tops = [sheet[:200] for sheet in sheets]
    for title in titles:  # each need opens a page of its own
        assert any(title in top for top in tops), title
    assert f"1 / {pages}" in sheets[0] and f"{pages} / {pages}" in sheets[pages - 1]
    if UPDATE_IMAGES:  # the README's screenshots, from this very run
        heat_page = next(i for i, sheet in enumerate(sheets, 1) if "Carte de chaleur" in sheet)
        need_page = next(i for i, top in enumerate(tops, 1) if titles[0] in top)
        for name, number in (
            ("report-cover", 1),
            ("report-heatmap", heat_page),
            ("report-need", need_page),
        ):
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "60",
                    "-singlefile",
                    "-f",
                    str(number),
                    "-l",
                    str(number),
                    str(pdf),
                    str(IMAGES / name),
                ],
                check=True,
            )


@given(
    value=st.floats(min_value=-1000, max_value=1000, allow_nan=False),
    decimals=st.integers(min_value=0, max_value=3),
    code=st.sampled_from(["fr", "en"]),
)
def test_cached_numbers_are_the_language_s_numbers(value: float, decimals: int, code: str) -> None:
    words = language(code)
    number = number_format(words)
    for v in (value, round(value, decimals) + 5 * 10 ** -(decimals + 1), 86.35, 86.25, -0.04):
        assert number(v, decimals) == words.number(v, decimals)
        assert signed_format(words, number)(v, decimals) == words.signed(v, decimals)


def test_the_page_stays_within_its_stated_size() -> None:
    """docs/report.md states it: 16 KB, plus 2 KB per card and 1.5 KB per need."""
    report = im.report(engine(), cohort=4)
    cards = sum(len(s.cards) for s in report.sections)
    size = len(render_report(report, language("fr")).encode("utf-8"))
    assert size <= 16_000 + 2_000 * cards + 1_500 * len(report.sections)
