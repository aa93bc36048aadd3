"""Output layer: the sentences people read, built in their language from a result's data.

The scorer records its evidence as data (theme links, key terms, words, lexicon links,
partners and competitors); every sentence is built here from that data, one small function
per kind of sentence, in the reader's language: French written as a French program officer
would write it, with names instead of ids, or English (the msgids), which is also what the
machine outputs' ``reasons`` hold.
"""

from __future__ import annotations

from collections.abc import Sequence

from implant_match.dataset import Dataset
from implant_match.explanation import ActorLink, Component, Exclusion, Match
from implant_match.i18n import N_, Language
from implant_match.stability import marker

PRIORITIES = {"high": N_("high"), "medium": N_("medium"), "low": N_("low")}
STABILITY = {"stable": N_("stable"), "moderate": N_("moderate"), "fragile": N_("fragile")}
THEME_HOW = {
    "exact": N_("exact"),
    "narrower": N_("via its narrower theme"),
    "broader": N_("via its broader theme"),
    "sibling": N_("via a sibling theme"),
}
_HOW_SHORT = {
    "narrower": N_("narrower"),
    "broader": N_("broader"),
    "sibling": N_("sibling"),
}
PARTS = {
    "themes": N_("themes"),
    "text": N_("text"),
    "keywords": N_("keywords"),
    "meaning": N_("meaning"),
    "complementarity": N_("complementarity"),
}
COHORT_METHODS = (
    N_("greedy (1 - 1/e guarantee)"),
    N_("exact (no need can be served)"),
    N_("greedy (exact solver gave up)"),
    N_("exact (integer program, HiGHS)"),
)


def _english(words: Language) -> bool:
    return words.code == "en"


def priority(value: str, words: Language) -> str:
    return words.gettext(PRIORITIES.get(value, value))


def stability_word(value: float | None, words: Language) -> str:
    word = marker(value)
    return words.gettext(STABILITY[word]) if word else ""


def part_name(name: str, words: Language) -> str:
    return words.gettext(PARTS.get(name, name))


def theme_label(dataset: Dataset, theme_id: str) -> str:
    theme = dataset.themes.get(theme_id)
    return theme.label if theme is not None else theme_id


def theme_labels(dataset: Dataset, ids: Sequence[str]) -> str:
    return ", ".join(theme_label(dataset, t) for t in ids)


def territory_name(dataset: Dataset, territory_id: str) -> str:
    territory = dataset.territories.get(territory_id)
    return territory.name if territory is not None else territory_id


def _ordered(match: Match) -> list[Component]:
    """The parts, strongest first (the order of the scorer's sentences)."""
    return sorted(match.components, key=lambda c: (-abs(c.points), c.name))


def headline(match: Match, words: Language) -> str:
    """A short phrase for the strongest evidence beyond the themes (which tables show)."""
    for component in _ordered(match):
        if component.name == "complementarity" and match.competitors:
            return words.gettext("duplicates {name}").format(name=match.competitors[0].name)
        if component.name == "keywords" and match.matched_keywords:
            return words.gettext("key terms: {terms}").format(
                terms=", ".join(match.matched_keywords[:3])
            )
        if component.name == "text" and (match.lexicon_links or match.matched_words):
            said = ", ".join([*match.lexicon_links[:1], *match.matched_words[:3]])
            return words.gettext("says: {words}").format(words=said)
    if match.theme_links:
        return words.gettext("themes only")
    return words.gettext("little in common")


def reasons(match: Match, words: Language) -> list[str]:
    """A sentence per part that weighs, strongest first, then the possible partners (the
    machine outputs' ``reasons`` are these, in English)."""
    out = []
    for component in _ordered(match):
        if component.name == "themes" and match.theme_links:
            out.append(_themes_sentence(match, words))
        elif component.name == "text" and (match.matched_words or match.lexicon_links):
            said = ", ".join([*match.matched_words[:5], *match.lexicon_links[:2]])
            out.append(words.gettext("Speaks of the same things: {words}.").format(words=said))
        elif component.name == "keywords" and (match.matched_keywords or match.partial_keywords):
            out.append(_keywords_sentence(match, words))
        elif component.name == "complementarity" and match.competitors:
            out.append(
                words.gettext(
                    "Would compete with {names}, already active on the territory ({points} points)."
                ).format(
                    names=", ".join(c.name for c in match.competitors),
                    points=words.signed(component.points),
                )
            )
    out.extend(dilution_sentences(match, words))
    if match.partners:
        out.append(
            words.gettext("Could partner with {names}.").format(
                names=", ".join(p.name for p in match.partners[:3])
            )
        )
    return out or [words.gettext("Little in common with the need.")]


def dilution_sentences(match: Match, words: Language) -> list[str]:
    """Why the enterprise's evidence counts for less, when it does."""
    dilution = match.dilution
    if dilution is None:
        return []
    out = []
    if dilution.themes_factor < 1.0:
        out.append(
            words.ngettext(
                "Claims themes in {families} family of the taxonomy: its themes count for "
                "{share}%.",
                "Claims themes in {families} families of the taxonomy: its themes count for "
                "{share}%.",
                dilution.theme_families,
            ).format(
                families=dilution.theme_families,
                share=words.number(100 * dilution.themes_factor, 0),
            )
        )
    if dilution.text_factor < 1.0:
        out.append(
            words.gettext(
                "Its text names {subjects} subjects, far more than most: words and key terms "
                "in common count for {share}%."
            ).format(
                subjects=dilution.text_subjects,
                share=words.number(100 * dilution.text_factor, 0),
            )
        )
    return out


def _themes_sentence(match: Match, words: Language) -> str:
    label = dict(match.theme_labels)
    exact = [
        label.get(link.need_theme, link.need_theme)
        for link in match.theme_links
        if link.how == "exact"
    ]
    other = [
        f"{label.get(link.need_theme, link.need_theme)} ({words.gettext(_HOW_SHORT[link.how])})"
        for link in match.theme_links
        if link.how != "exact"
    ]
    return words.gettext("Shares the need's themes: {themes}.").format(
        themes=", ".join([*exact, *other])
    )


def _keywords_sentence(match: Match, words: Language) -> str:
    key_terms = [k for k in match.matched_keywords if k not in match.theme_words]
    sought = len(key_terms) + len(match.missing_keywords)
    found = []
    if key_terms:
        found.append(
            words.ngettext(
                "finds {found} of the need's {sought} key term ({terms})",
                "finds {found} of the need's {sought} key terms ({terms})",
                sought,
            ).format(
                found=len(key_terms),
                sought=sought,
                terms=", ".join(keyword_shown(match, k, words) for k in key_terms[:5]),
            )
        )
    if match.partial_keywords:
        found.append(
            words.gettext("shows part of {terms}").format(
                terms="; ".join(partial_shown(k, ws, words) for k, ws in match.partial_keywords[:3])
            )
        )
    if match.theme_words:
        found.append(
            words.gettext("names its themes ({words})").format(
                words=", ".join(match.theme_words[:3])
            )
        )
    sentence = words.gettext(" and ").join(found)
    return sentence[:1].upper() + sentence[1:] + "."


def actor_reason(link: ActorLink, match: Match, dataset: Dataset, words: Language) -> str:
    """Why a local actor is a partner or a competitor, with theme names, not ids."""
    if _english(words):
        return link.reason
    enterprise = dataset.enterprise_by_id.get(match.enterprise_id)
    need = dataset.need_by_id.get(match.need_id)
    territory = dataset.territories.get(need.territory) if need else None
    actor = (
        next((a for a in territory.local_actors if a.id == link.actor_id), None)
        if territory
        else None
    )
    shared = sorted(set(actor.themes) & set(enterprise.themes)) if actor and enterprise else []
    names = theme_labels(dataset, shared)
    if link in match.competitors:
        return words.gettext("same themes ({themes}) and similar work").format(themes=names)
    text = (
        words.gettext("shares {themes}").format(themes=names)
        if shared
        else words.gettext("neighbouring themes")
    )
    if link.reason.endswith("same beneficiaries"):  # the scorer's finding, kept as it said
        text += words.gettext(", same beneficiaries")
    return text


def exclusion_reason(exclusion: Exclusion, dataset: Dataset, words: Language) -> str:
    """Why the territory rule keeps a pair out, with territory names."""
    if _english(words):
        return exclusion.reason
    enterprise = dataset.enterprise_by_id[exclusion.enterprise_id]
    need = dataset.need_by_id[exclusion.need_id]
    return words.gettext(
        "{enterprise} only wants to set up in {territories}; the need is in {territory}."
    ).format(
        enterprise=enterprise.name,
        territories=", ".join(
            territory_name(dataset, t) for t in enterprise.target_territories or ()
        ),
        territory=territory_name(dataset, need.territory),
    )


def cohort_method(label: str, words: Language) -> str:
    return words.gettext(label)


def keyword_shown(match: Match, keyword: str, words: Language) -> str:
    """A found key term, with the lexicon form the enterprise wrote when it differs."""
    equivalent = dict(match.keyword_equivalents).get(keyword)
    return f"{keyword} ≈ {equivalent}" if equivalent else keyword


def partial_shown(keyword: str, found: Sequence[str], words: Language) -> str:
    """A key term only some of whose words occur: "permis de conduire — partly: permis"."""
    return words.gettext("{keyword} — partly: {found}").format(
        keyword=keyword, found=", ".join(found)
    )
