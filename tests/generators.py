"""Random but realistic small datasets, built from a seed (for property tests)."""

from __future__ import annotations

import random
from typing import Any

WORDS = (
    "réfugiés français formation cours alimentation épicerie solidaire repas textile "
    "vêtements réemploi bâtiment rénovation isolation logement mobilité vélo covoiturage "
    "insertion emploi jeunes numérique ordinateurs précarité hygiène dons produits "
    "fin de vie accompagnement bénévoles quartiers prioritaires familles enfants santé "
    "maraîchage circuits courts cantine déchets compost tri collecte recyclerie atelier "
    "réparation seniors isolement aidants handicap travail adapté exilés langue"
).split()
THEME_IDS = [
    "alimentation",
    "aide-alimentaire",
    "textile",
    "batiment",
    "renovation",
    "mobilite",
    "insertion",
    "numerique",
    "migrations",
    "francais",
]
PARENTS = {"aide-alimentaire": "alimentation", "renovation": "batiment", "francais": "migrations"}


def _text(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.3:  # some texts typed without accents, some with a typo
        words = [w.replace("é", "e").replace("è", "e").replace("ç", "c") for w in words]
    if rng.random() < 0.2 and words:
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 4:
            j = rng.randrange(1, len(w) - 2)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words).capitalize() + "."


def random_documents(
    seed: int, needs: int = 6, enterprises: int = 12
) -> tuple[dict[str, Any], dict[str, Any]]:
    rng = random.Random(seed)
    themes = [
        {
            "id": t,
            "label": t.replace("-", " ").capitalize(),
            **({"parent": PARENTS[t]} if t in PARENTS else {}),
            "aliases": rng.sample(WORDS, 2),
        }
        for t in THEME_IDS
    ]
    territories = []
    for k in range(3):
        actors = [
            {
                "id": f"acteur-{k}-{a}",
                "name": f"Acteur {k} {a}",
                "themes": rng.sample(THEME_IDS, rng.randint(1, 2)),
                "description": _text(rng, 8),
            }
            for a in range(rng.randint(0, 3))
        ]
        territories.append(
            {
                "id": f"territoire-{k}",
                "name": f"Territoire {k}",
                "priority_themes": rng.sample(THEME_IDS, 2),
                "local_actors": actors,
            }
        )
    need_list = [
        {
            "id": f"besoin-{i}",
            "territory": f"territoire-{rng.randrange(3)}",
            "title": _text(rng, 4),
            "description": _text(rng, 14),
            "themes": rng.sample(THEME_IDS, rng.randint(1, 3)),
            "keywords": rng.sample(WORDS, rng.randint(0, 4)),
            "priority": rng.choice(["low", "medium", "high"]),
        }
        for i in range(needs)
    ]
    enterprise_list = []
    for j in range(enterprises):
        item: dict[str, Any] = {
            "id": f"entreprise-{j}",
            "name": f"Entreprise {rng.choice(WORDS)} {j}",
            "description": _text(rng, rng.randint(6, 40)),
            "themes": rng.sample(THEME_IDS, rng.randint(1, 4)),
            "keywords": rng.sample(WORDS, rng.randint(0, 3)),
            "origin": "Paris",
        }
        if rng.random() < 0.3:
            item["target_territories"] = [f"territoire-{rng.randrange(3)}"]
        enterprise_list.append(item)
    return (
        {"schema_version": 1, "themes": themes, "territories": territories, "needs": need_list},
        {"schema_version": 1, "enterprises": enterprise_list},
    )
