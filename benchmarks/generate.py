"""Seeded generator of realistic synthetic data for implant-match benchmarks.

    python benchmarks/generate.py --needs 1000 --enterprises 10000 --seed 1 \
        --out benchmarks/out/1000x10000/

writes ``needs.yaml`` and ``enterprises.yaml`` following the data contract
(``CONTRACT.tmp.md``): 25 themes in a tree (parents, French aliases), 10 territories with
priority themes and 3-8 local actors each, then needs and enterprises whose French
descriptions (about 290 characters, accents included) are assembled from a social- and
solidarity-economy vocabulary tied to their 1-5 themes. About 10 % of the texts carry typos
(two letters swapped, one letter dropped) and about 10 % lost their accents, as texts typed
in a hurry do. Some enterprises only want to set up in a few territories.

The output depends only on the arguments: the same seed gives the same bytes. Needs and
enterprises are drawn from separate streams, so the first 10 000 enterprises of a
100 000-enterprise file are those of a 10 000-enterprise file with the same seed.

Every string is written double-quoted (JSON escaping, which YAML accepts), so nothing can be
read back as a boolean, a number or a date.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
import time
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

# -- the vocabulary ---------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeSpec:
    id: str
    label: str
    parent: str | None
    aliases: tuple[str, ...]
    things: tuple[str, ...]  # noun phrases that an answer to the theme provides
    publics: tuple[str, ...]  # who benefits


THEMES: tuple[ThemeSpec, ...] = (
    ThemeSpec(
        "alimentation",
        "Alimentation",
        None,
        ("alimentaire", "alimentation durable", "nourriture", "repas", "cuisine"),
        (
            "des repas équilibrés",
            "une cuisine de quartier",
            "une alimentation durable",
            "des ateliers de cuisine",
            "une cantine solidaire",
        ),
        ("les familles", "les étudiants précaires", "les habitants du quartier"),
    ),
    ThemeSpec(
        "aide-alimentaire",
        "Aide alimentaire",
        "alimentation",
        (
            "aide alimentaire",
            "précarité alimentaire",
            "épicerie solidaire",
            "banque alimentaire",
            "colis alimentaires",
        ),
        (
            "une épicerie solidaire",
            "des colis alimentaires",
            "une distribution alimentaire",
            "des paniers à prix réduit",
        ),
        ("les ménages en précarité alimentaire", "les bénéficiaires des minima sociaux"),
    ),
    ThemeSpec(
        "circuits-courts",
        "Circuits courts et agriculture locale",
        "alimentation",
        ("circuits courts", "producteurs locaux", "produits locaux", "maraîchage", "paniers"),
        (
            "des paniers de légumes bio",
            "un marché de producteurs locaux",
            "une ferme maraîchère",
            "un groupement d'achat en circuit court",
        ),
        ("les agriculteurs du territoire", "les cantines scolaires"),
    ),
    ThemeSpec(
        "gaspillage-alimentaire",
        "Lutte contre le gaspillage alimentaire",
        "alimentation",
        ("gaspillage alimentaire", "anti-gaspillage", "invendus alimentaires", "glanage"),
        (
            "la récupération des invendus alimentaires",
            "une conserverie solidaire",
            "la collecte des surplus des marchés",
        ),
        ("les commerçants", "les restaurants collectifs"),
    ),
    ThemeSpec(
        "insertion-professionnelle",
        "Insertion professionnelle",
        None,
        (
            "insertion",
            "emploi",
            "retour à l'emploi",
            "chantier d'insertion",
            "entreprise d'insertion",
            "chômage",
        ),
        (
            "des parcours d'insertion",
            "un chantier d'insertion",
            "un accompagnement vers l'emploi",
            "des contrats aidés",
            "une formation qualifiante",
        ),
        (
            "les demandeurs d'emploi de longue durée",
            "les bénéficiaires du RSA",
            "les personnes éloignées de l'emploi",
        ),
    ),
    ThemeSpec(
        "emploi-jeunes",
        "Emploi et engagement des jeunes",
        "insertion-professionnelle",
        ("jeunes", "jeunesse", "décrochage", "service civique", "mentorat", "premier emploi"),
        (
            "du mentorat",
            "des missions de service civique",
            "un premier emploi",
            "un accompagnement des décrocheurs",
        ),
        ("les jeunes sans diplôme", "les jeunes des quartiers prioritaires"),
    ),
    ThemeSpec(
        "sortants-de-detention",
        "Réinsertion des personnes détenues",
        "insertion-professionnelle",
        ("prison", "détention", "détenus", "sortants de prison", "réinsertion"),
        (
            "un accompagnement à la sortie de détention",
            "des ateliers en prison",
            "un logement de transition",
        ),
        ("les personnes détenues", "les sortants de prison"),
    ),
    ThemeSpec(
        "accueil-refugies",
        "Accueil des personnes réfugiées",
        None,
        ("réfugiés", "exilés", "personnes exilées", "migrants", "demandeurs d'asile", "asile"),
        (
            "un accueil des personnes exilées",
            "un parrainage citoyen",
            "un accompagnement des demandeurs d'asile",
        ),
        ("les personnes réfugiées", "les demandeurs d'asile", "les mineurs non accompagnés"),
    ),
    ThemeSpec(
        "apprentissage-francais",
        "Apprentissage du français",
        "accueil-refugies",
        ("français langue étrangère", "FLE", "cours de français", "langue française", "DELF"),
        ("des cours de français", "une préparation au DELF", "des ateliers de conversation"),
        ("les primo-arrivants", "les personnes allophones"),
    ),
    ThemeSpec(
        "alphabetisation",
        "Alphabétisation et savoirs de base",
        "apprentissage-francais",
        ("alphabétisation", "illettrisme", "savoirs de base", "lecture et écriture"),
        ("des ateliers d'alphabétisation", "une remise à niveau en lecture et écriture"),
        ("les adultes en situation d'illettrisme",),
    ),
    ThemeSpec(
        "precarite",
        "Précarité et exclusion",
        None,
        ("précarité", "pauvreté", "exclusion", "grande précarité", "sans-abri", "démunis"),
        ("un accueil de jour", "des maraudes", "une aide d'urgence", "des dons en nature"),
        ("les personnes sans domicile", "les familles monoparentales", "les travailleurs pauvres"),
    ),
    ThemeSpec(
        "acces-aux-droits",
        "Accès aux droits et orientation",
        "precarite",
        ("accès aux droits", "non-recours", "démarches administratives", "orientation sociale"),
        (
            "une permanence d'accès aux droits",
            "une aide aux démarches administratives",
            "un guichet d'orientation sociale",
        ),
        ("les allocataires", "les personnes en situation de non-recours"),
    ),
    ThemeSpec(
        "lien-social",
        "Lien social et isolement",
        None,
        ("lien social", "isolement", "solitude", "voisinage", "convivialité", "entraide"),
        (
            "un café associatif",
            "des visites de convivialité",
            "un tiers-lieu de quartier",
            "des activités d'entraide entre voisins",
        ),
        ("les habitants isolés", "les voisins", "les familles nouvellement arrivées"),
    ),
    ThemeSpec(
        "personnes-agees",
        "Personnes âgées",
        "lien-social",
        ("personnes âgées", "aînés", "seniors", "vieillissement", "maintien à domicile"),
        (
            "des visites à domicile",
            "un habitat intergénérationnel",
            "une aide au maintien à domicile",
        ),
        ("les personnes âgées isolées", "les aidants familiaux"),
    ),
    ThemeSpec(
        "economie-circulaire",
        "Économie circulaire",
        None,
        ("économie circulaire", "déchets", "recyclage", "seconde main", "collecte", "zéro déchet"),
        ("une filière de recyclage", "la collecte sélective", "une démarche zéro déchet"),
        ("les collectivités", "les entreprises du territoire"),
    ),
    ThemeSpec(
        "reemploi",
        "Réemploi et réparation",
        "economie-circulaire",
        ("réemploi", "réparation", "reconditionnement", "ressourcerie", "recyclerie"),
        (
            "une ressourcerie",
            "un atelier de réparation",
            "le reconditionnement d'appareils",
            "le réemploi des matériaux de construction",
        ),
        ("les ménages modestes", "les artisans du bâtiment"),
    ),
    ThemeSpec(
        "textile",
        "Textile",
        "economie-circulaire",
        ("textile", "vêtements", "friperie", "couture", "confection", "upcycling"),
        (
            "une friperie solidaire",
            "un atelier de couture",
            "la collecte de vêtements",
            "une filière de confection locale",
        ),
        ("les couturières en reconversion", "les familles"),
    ),
    ThemeSpec(
        "biodechets",
        "Biodéchets et compostage",
        "economie-circulaire",
        ("biodéchets", "compost", "compostage", "déchets organiques", "méthanisation"),
        ("un compostage de quartier", "la collecte des biodéchets", "une plateforme de compost"),
        ("les restaurateurs", "les habitants des immeubles"),
    ),
    ThemeSpec(
        "batiment-durable",
        "Bâtiment durable",
        None,
        ("bâtiment durable", "construction", "éco-construction", "matériaux biosourcés"),
        (
            "des chantiers d'éco-construction",
            "des matériaux biosourcés",
            "une construction en bois et en paille",
        ),
        ("les bailleurs sociaux", "les artisans", "les maîtres d'ouvrage publics"),
    ),
    ThemeSpec(
        "renovation-energetique",
        "Rénovation énergétique",
        "batiment-durable",
        (
            "rénovation énergétique",
            "rénovation",
            "isolation",
            "précarité énergétique",
            "passoire thermique",
        ),
        (
            "la rénovation des logements",
            "l'isolation des passoires thermiques",
            "un accompagnement à l'auto-réhabilitation",
        ),
        ("les propriétaires modestes", "les ménages en précarité énergétique"),
    ),
    ThemeSpec(
        "mobilites",
        "Mobilités",
        None,
        ("mobilité", "transport", "déplacements", "se déplacer", "transports en commun"),
        ("des solutions de transport", "un service de mobilité partagée"),
        ("les habitants des zones peu desservies", "les salariés en horaires décalés"),
    ),
    ThemeSpec(
        "mobilite-inclusive",
        "Mobilité inclusive et rurale",
        "mobilites",
        (
            "mobilité inclusive",
            "mobilité solidaire",
            "permis de conduire",
            "garage solidaire",
            "covoiturage",
            "zones rurales",
        ),
        (
            "un garage solidaire",
            "une auto-école sociale",
            "du covoiturage rural",
            "la location de véhicules à petit prix",
        ),
        ("les habitants des zones rurales", "les demandeurs d'emploi sans permis"),
    ),
    ThemeSpec(
        "velo",
        "Vélo",
        "mobilites",
        ("vélo", "vélos", "atelier vélo", "vélo-école", "réparation de vélos"),
        ("un atelier vélo participatif", "une vélo-école", "la remise en état de vélos"),
        ("les cyclistes débutants", "les lycéens"),
    ),
    ThemeSpec(
        "numerique",
        "Numérique",
        None,
        ("numérique", "informatique", "internet", "ordinateur", "smartphone"),
        ("des ordinateurs reconditionnés", "un accès à internet", "un espace numérique"),
        ("les usagers des services publics", "les associations"),
    ),
    ThemeSpec(
        "inclusion-numerique",
        "Inclusion numérique",
        "numerique",
        (
            "inclusion numérique",
            "fracture numérique",
            "illectronisme",
            "démarches en ligne",
            "aidants numériques",
        ),
        (
            "des ateliers d'initiation au numérique",
            "un accompagnement aux démarches en ligne",
            "des conseillers numériques",
        ),
        ("les seniors éloignés du numérique", "les personnes en situation d'illectronisme"),
    ),
)

GENERIC_PUBLICS = (
    "les habitants des quartiers prioritaires",
    "les personnes en situation de handicap",
    "les femmes isolées",
    "les familles monoparentales",
    "les jeunes de moins de vingt-six ans",
    "les personnes éloignées des services publics",
    "les habitants des villages",
)
ESS_WORDS = (
    "l'économie sociale et solidaire",
    "les bénévoles",
    "les collectivités locales",
    "les centres communaux d'action sociale",
    "les bailleurs sociaux",
    "les missions locales",
    "les acteurs de l'ESS",
    "les structures d'insertion",
    "les associations de quartier",
    "les fondations d'entreprise",
    "les écoles",
    "les régies de quartier",
)
PLACES = (
    "dans les quartiers prioritaires",
    "en zone rurale",
    "dans les villages de la vallée",
    "en centre-ville",
    "dans les communes périurbaines",
    "à l'échelle du département",
    "sur tout le bassin de vie",
    "dans les grands ensembles",
)
NEED_SENTENCES = (
    "Sur le territoire, {public} manquent de {thing}.",
    "Les acteurs locaux constatent un besoin croissant de {thing} pour {public}.",
    "Aucune structure ne propose aujourd'hui {thing} {place}.",
    "Il faudrait développer {thing} en lien avec {ess}.",
    "La demande dépasse largement l'offre existante, surtout {place}.",
    "Un porteur de projet capable de déployer {thing} est recherché.",
    "Les élus souhaitent une réponse durable, co-construite avec {ess}.",
    "{Public} restent sans solution malgré l'engagement de {ess}.",
    "L'enjeu : {thing} accessible à {public}, avec des emplois locaux.",
)
ENTERPRISE_SENTENCES = (
    "{Form} qui propose {thing} pour {public}.",
    "Elle développe {thing} avec {ess}.",
    "Son modèle, éprouvé {place}, repose sur {thing} et sur l'engagement de bénévoles.",
    "Elle accompagne {public} et travaille main dans la main avec {ess}.",
    "Née à {city}, elle a essaimé dans plusieurs villes grâce à un réseau de franchises sociales.",
    "Ses équipes salariées en insertion assurent {thing} au quotidien.",
    "Elle mesure son impact social chaque année avec {ess}.",
    "Chaque antenne locale propose {thing} à {public}.",
)
TITLE_TEMPLATES = (
    "{Thing} pour {public}",
    "Développer {thing} {place}",
    "Manque de {thing_bare}",
    "Renforcer {thing} sur le territoire",
    "Créer {thing} {place}",
)
ACTOR_PREFIXES = (
    "Association",
    "Collectif",
    "Maison",
    "Atelier",
    "Réseau",
    "Fédération",
    "Coopérative",
    "Régie de quartier",
    "Centre social",
    "Foyer",
)
# Invented brand names: onset + vowel + optional coda, two or three syllables; about 1,300
# syllables, so that near-identical names stay as rare as in real lists of enterprises.
BRAND_ONSETS = "b br c ch cl d f fl g gr j l m n p pl pr r s t tr v z".split()
BRAND_VOWELS = "a e i o u é è ou an on in au".split()
BRAND_CODAS = ("", "", "", "", "l", "n", "r", "s")
BRAND_HEADS = (
    "Les Ateliers",
    "La Fabrique",
    "Le Relais",
    "Les Jardins",
    "La Ruche",
    "L'Atelier",
    "Le Comptoir",
    "La Maison",
    "Les Compagnons",
    "Le Chantier",
    "La Coop",
    "Le Réseau",
)
CITIES = (
    "Lyon",
    "Paris",
    "Marseille",
    "Lille",
    "Nantes",
    "Bordeaux",
    "Toulouse",
    "Rennes",
    "Strasbourg",
    "Montpellier",
    "Grenoble",
    "Saint-Étienne",
    "Clermont-Ferrand",
    "Besançon",
    "Dijon",
    "Angers",
    "Tours",
    "Brest",
    "Limoges",
    "Poitiers",
    "Amiens",
    "Nancy",
    "Metz",
    "Rouen",
    "Caen",
    "Orléans",
    "Perpignan",
    "Nîmes",
    "Valence",
    "Chambéry",
    "Bruxelles",
    "Genève",
    "Montréal",
    "Liège",
)
LEGAL_FORMS = (
    "association",
    "association",
    "association",
    "SCOP",
    "SCIC",
    "SAS ESUS",
    "entreprise d'insertion",
    "fondation",
    "entreprise adaptée",
)
FORM_PHRASES = {
    "association": "Association",
    "SCOP": "Coopérative de salariés",
    "SCIC": "Coopérative d'intérêt collectif",
    "SAS ESUS": "Entreprise solidaire",
    "entreprise d'insertion": "Entreprise d'insertion",
    "fondation": "Fondation",
    "entreprise adaptée": "Entreprise adaptée",
}
SOURCES = (
    "Diagnostic territorial 2024",
    "Conseil de développement",
    "Centre communal d'action sociale",
    "Incubateur ESS régional",
    "Mission locale",
    "Réunion publique des habitants",
    "Service développement économique",
    "Chambre régionale de l'ESS",
)
IMPACT_TEMPLATES = (
    "Selon son rapport annuel, {n} personnes accompagnées et {m} emplois créés depuis sa création.",
    "Évaluation d'impact menée avec une université : {n} bénéficiaires par an, {m} % de sorties "
    "positives.",
    "Présente dans {m} villes, elle touche environ {n} personnes chaque année.",
)
TERRITORIES = (
    ("metropole-lyon", "Métropole de Lyon"),
    ("grenoble-alpes-metropole", "Grenoble Alpes Métropole"),
    ("departement-isere", "Département de l'Isère"),
    ("saint-etienne-metropole", "Saint-Étienne Métropole"),
    ("clermont-auvergne-metropole", "Clermont Auvergne Métropole"),
    ("grand-annecy", "Communauté d'agglomération du Grand Annecy"),
    ("drome-provencale", "Drôme provençale"),
    ("ardeche-meridionale", "Ardèche méridionale"),
    ("aix-marseille-provence", "Métropole Aix-Marseille-Provence"),
    ("eurometropole-strasbourg", "Eurométropole de Strasbourg"),
)

DESCRIPTION_TARGET = (260, 320)  # characters; the mean lands near 290
TYPO_SHARE = 0.10
NO_ACCENT_SHARE = 0.10


# -- helpers ----------------------------------------------------------------------------


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def slug(text: str) -> str:
    folded = strip_accents(text).lower()
    out = "".join(c if c.isalnum() and c.isascii() else "-" for c in folded)
    return "-".join(part for part in out.split("-") if part)


def add_typos(rng: random.Random, text: str) -> str:
    """Swap two neighbouring letters or drop one, in 1-3 words of six letters or more."""
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    for i in rng.sample(long_words, min(len(long_words), rng.randint(1, 3))):
        w = words[i]
        k = rng.randrange(1, len(w) - 2)
        swap = rng.random() < 0.5
        words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2 :] if swap else w[:k] + w[k + 1 :]
    return " ".join(words)


def degrade(rng: random.Random, text: str) -> str:
    """Leave ~80 % of texts clean; hurry the others (typos, or accents left out)."""
    if rng.random() < TYPO_SHARE:
        text = add_typos(rng, text)
    if rng.random() < NO_ACCENT_SHARE:
        text = strip_accents(text)
    return text


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def bare(thing: str) -> str:
    """'des cours de français' -> 'cours de français' (for 'Manque de ...')."""
    for article in ("des ", "du ", "de la ", "de l'", "la ", "le ", "les ", "l'", "un ", "une "):
        if thing.startswith(article):
            return thing[len(article) :]
    return thing


_CONTRACTIONS = (
    (re.compile(r"\b([dD])e des (?=[aeiouyéèêâîôAEIOUYÉÈ])"), r"\1'"),
    (re.compile(r"\b([dD])e des "), r"\1e "),
    (re.compile(r"\b([dD])e (un|une) "), r"\1'\2 "),
    (re.compile(r"\b([dD])e les "), r"\1es "),
    (re.compile(r"\b([dD])e le "), r"\1u "),
    (re.compile(r"\b([dD])e (?=[aeiouyéèêâîôAEIOUYÉÈ])"), r"\1'"),
    (re.compile(r"\bà les "), "aux "),
    (re.compile(r"\bà le "), "au "),
)


@lru_cache(maxsize=1 << 16)
def french(text: str) -> str:
    """Contract what templates glue together: 'de les' -> 'des', 'à les' -> 'aux'..."""
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text


@cache
def fields(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


def describe(
    rng: random.Random,
    sentences: tuple[str, ...],
    fill: dict[str, list[str]],
    first: str | None = None,
) -> str:
    """Sentences drawn from ``sentences`` until the text is about 290 characters long."""
    low, high = DESCRIPTION_TARGET
    text = ""
    pool = list(sentences)
    rng.shuffle(pool)
    if first is not None:
        pool.remove(first)
        pool.insert(0, first)
    for template in pool * 2:
        values = {}
        for name in fields(template):
            value = rng.choice(fill[name.lower()])
            values[name] = capitalise(value) if name[0].isupper() else value
        sentence = french(template.format(**values))
        candidate = f"{text} {sentence}".strip()
        if len(candidate) > high:
            if len(text) >= low:
                break
            continue
        text = candidate
        if len(text) >= low + (high - low) // 2 and rng.random() < 0.5:
            break
    if len(text) < low:  # rare: pad with a closing sentence that fits
        closing = " Le projet cherche des partenaires pour passer à l'échelle."
        text = (text + closing)[:high]
    return text


def pick_themes(rng: random.Random, by_id: dict[str, ThemeSpec]) -> list[str]:
    """1-5 themes, mostly from one family (a theme, its parent, its siblings)."""
    count = rng.choices((1, 2, 3, 4, 5), weights=(25, 35, 22, 12, 6))[0]
    anchor = rng.choice(THEMES)
    family = [
        t.id
        for t in THEMES
        if t.id == anchor.id
        or t.id == anchor.parent
        or t.parent == anchor.id
        or (anchor.parent and t.parent == anchor.parent)
    ]
    chosen = [anchor.id]
    while len(chosen) < count:
        source = family if rng.random() < 0.6 else list(by_id)
        candidate = rng.choice(source)
        if candidate not in chosen:
            chosen.append(candidate)
    return chosen


def fill_for(
    rng: random.Random, themes: list[str], by_id: dict[str, ThemeSpec]
) -> dict[str, list[str]]:
    specs = [by_id[t] for t in themes]
    things = [x for s in specs for x in s.things]
    aliases = [a for s in specs for a in s.aliases]
    # Theme words appear as aliases too, so texts carry the theme signal in several forms.
    things += [f"des actions autour de {a}" for a in rng.sample(aliases, min(2, len(aliases)))]
    return {
        "thing": things,
        "public": [p for s in specs for p in s.publics] + list(GENERIC_PUBLICS[:3]),
        "place": list(PLACES),
        "ess": list(ESS_WORDS),
    }


def keywords_for(rng: random.Random, themes: list[str], by_id: dict[str, ThemeSpec]) -> list[str]:
    pool = sorted({w for t in themes for w in (*by_id[t].aliases, *map(bare, by_id[t].things))})
    return rng.sample(
        pool, min(len(pool), rng.choices(range(6), weights=(10, 15, 20, 25, 18, 12))[0])
    )


# -- records ----------------------------------------------------------------------------


def make_themes() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for spec in THEMES:
        record: dict[str, object] = {"id": spec.id, "label": spec.label}
        if spec.parent:
            record["parent"] = spec.parent
        record["aliases"] = list(spec.aliases)
        out.append(record)
    return out


def make_territories(rng: random.Random, by_id: dict[str, ThemeSpec]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for territory_id, name in TERRITORIES:
        city = name.split(" de ")[-1] if " de " in name else name.split()[0]
        actors = []
        for k in range(rng.randint(3, 8)):
            themes = pick_themes(rng, by_id)[: rng.randint(1, 3)]
            spec = by_id[themes[0]]
            prefix = rng.choice(ACTOR_PREFIXES)
            word = capitalise(rng.choice(spec.aliases))
            actor_name = f"{prefix} {word} {city}"
            description = (
                f"Structure de {city} qui propose "
                f"{rng.choice(spec.things)} pour {rng.choice(spec.publics)}, "
                f"en lien avec {rng.choice(ESS_WORDS)}."
            )
            actors.append(
                {
                    "id": f"{slug(actor_name)}-{territory_id}-{k + 1}",
                    "name": actor_name,
                    "themes": themes,
                    "description": degrade(rng, description),
                }
            )
        out.append(
            {
                "id": territory_id,
                "name": name,
                "priority_themes": rng.sample([t.id for t in THEMES], rng.randint(2, 5)),
                "local_actors": actors,
            }
        )
    return out


def make_needs(seed: int, count: int, by_id: dict[str, ThemeSpec]) -> list[dict[str, object]]:
    rng = random.Random(f"{seed}-needs")
    territory_ids = [t for t, _ in TERRITORIES]
    out: list[dict[str, object]] = []
    for i in range(count):
        themes = pick_themes(rng, by_id)
        fill = fill_for(rng, themes, by_id)
        main = by_id[themes[0]]
        thing = rng.choice(main.things)
        title = rng.choice(TITLE_TEMPLATES).format(
            Thing=capitalise(thing),
            thing=thing,
            thing_bare=bare(thing),
            public=rng.choice(fill["public"]),
            place=rng.choice(PLACES),
        )
        record: dict[str, object] = {
            "id": f"besoin-{i + 1:06d}",
            "territory": rng.choice(territory_ids),
            "title": degrade(rng, capitalise(french(title))),
            "description": degrade(rng, describe(rng, NEED_SENTENCES, fill)),
            "themes": themes,
        }
        keywords = keywords_for(rng, themes, by_id)
        if keywords:
            record["keywords"] = keywords
        record["priority"] = rng.choices(("low", "medium", "high"), weights=(2, 5, 3))[0]
        if rng.random() < 0.5:
            record["source"] = rng.choice(SOURCES)
        out.append(record)
    return out


def brand(rng: random.Random) -> str:
    word = "".join(
        rng.choice(BRAND_ONSETS) + rng.choice(BRAND_VOWELS) + rng.choice(BRAND_CODAS)
        for _ in range(rng.randint(2, 3))
    )
    return capitalise(word)


def make_enterprises(seed: int, count: int, by_id: dict[str, ThemeSpec]) -> list[dict[str, object]]:
    rng = random.Random(f"{seed}-enterprises")
    territory_ids = [t for t, _ in TERRITORIES]
    out: list[dict[str, object]] = []
    for i in range(count):
        themes = pick_themes(rng, by_id)
        main = by_id[themes[0]]
        style = rng.random()
        if style < 0.3:
            name = f"{rng.choice(BRAND_HEADS)} {brand(rng)}"
        elif style < 0.6:
            short = [a for a in main.aliases if len(a) <= 14] or [main.label]
            name = f"{brand(rng)} {capitalise(rng.choice(short))}"
        elif style < 0.8:
            name = f"{brand(rng)} {brand(rng)}"
        else:
            name = brand(rng)
        legal_form = rng.choice(LEGAL_FORMS)
        city = rng.choice(CITIES)
        fill = fill_for(rng, themes, by_id)
        fill["form"] = [FORM_PHRASES[legal_form]]
        fill["city"] = [city]
        record: dict[str, object] = {
            "id": f"{slug(name)[:60].strip('-')}-{i + 1:06d}",
            "name": name,
            "description": degrade(
                rng, describe(rng, ENTERPRISE_SENTENCES, fill, first=ENTERPRISE_SENTENCES[0])
            ),
            "themes": themes,
        }
        keywords = keywords_for(rng, themes, by_id)
        if keywords:
            record["keywords"] = keywords
        record["origin"] = city
        if rng.random() < 0.7:
            record["founded"] = rng.randint(1985, 2024)
        if rng.random() < 0.2:
            record["target_territories"] = rng.sample(territory_ids, rng.randint(1, 3))
        record["legal_form"] = legal_form
        if rng.random() < 0.4:
            record["website"] = f"https://www.{slug(name)[:40].strip('-')}.fr"
        if rng.random() < 0.3:
            record["impact"] = rng.choice(IMPACT_TEMPLATES).format(
                n=rng.randint(50, 5000), m=rng.randint(2, 90)
            )
        out.append(record)
    return out


# -- YAML emission ----------------------------------------------------------------------


def q(value: object) -> str:
    """A YAML scalar: strings double-quoted (JSON escaping is valid YAML), ints bare."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"unexpected value {value!r}")
    return str(value) if isinstance(value, int) else json.dumps(value, ensure_ascii=False)


def flow(values: list[str]) -> str:
    return "[" + ", ".join(q(v) for v in values) + "]"


def emit_record(lines: list[str], record: dict[str, object], indent: str) -> None:
    first = True
    for key, value in record.items():
        lead = f"{indent}- " if first else f"{indent}  "
        first = False
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{lead}{key}:")
            for item in value:
                emit_record(lines, item, indent + "    ")
        elif isinstance(value, list):
            lines.append(f"{lead}{key}: {flow(value)}")
        else:
            lines.append(f"{lead}{key}: {q(value)}")


def needs_yaml(
    themes: list[dict[str, object]],
    territories: list[dict[str, object]],
    needs: list[dict[str, object]],
) -> str:
    lines = [
        "# yaml-language-server: $schema=../schemas/needs.schema.json",
        "# Synthetic data written by benchmarks/generate.py",
        "schema_version: 1",
        "",
        "themes:",
    ]
    for record in themes:
        emit_record(lines, record, "  ")
    lines += ["", "territories:"]
    for record in territories:
        emit_record(lines, record, "  ")
    lines += ["", "needs:"]
    for record in needs:
        emit_record(lines, record, "  ")
    return "\n".join(lines) + "\n"


def enterprises_yaml(enterprises: list[dict[str, object]]) -> str:
    lines = [
        "# yaml-language-server: $schema=../schemas/enterprises.schema.json",
        "# Synthetic data written by benchmarks/generate.py",
        "schema_version: 1",
        "",
        "enterprises:",
    ]
    for record in enterprises:
        emit_record(lines, record, "  ")
    return "\n".join(lines) + "\n"


def generate(needs: int, enterprises: int, seed: int, out: Path) -> tuple[Path, Path]:
    """Write ``needs.yaml`` and ``enterprises.yaml`` into ``out``; return their paths."""
    by_id = {t.id: t for t in THEMES}
    rng = random.Random(f"{seed}-territories")
    themes = make_themes()
    territories = make_territories(rng, by_id)
    need_records = make_needs(seed, needs, by_id)
    enterprise_records = make_enterprises(seed, enterprises, by_id)
    out.mkdir(parents=True, exist_ok=True)
    needs_path, enterprises_path = out / "needs.yaml", out / "enterprises.yaml"
    needs_path.write_text(needs_yaml(themes, territories, need_records), encoding="utf-8")
    enterprises_path.write_text(enterprises_yaml(enterprise_records), encoding="utf-8")
    return needs_path, enterprises_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--needs", type=int, default=50, help="number of needs (default 50)")
    parser.add_argument(
        "--enterprises", type=int, default=200, help="number of enterprises (default 200)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    args = parser.parse_args(argv)
    if args.needs < 1 or args.enterprises < 1:
        parser.error("--needs and --enterprises must be at least 1")
    start = time.perf_counter()
    paths = generate(args.needs, args.enterprises, args.seed, args.out)
    took = time.perf_counter() - start
    sizes = ", ".join(f"{p} ({p.stat().st_size / 2**20:.1f} MiB)" for p in paths)
    print(f"wrote {sizes} in {took:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
