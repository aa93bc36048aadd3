"""implant-match: match social enterprises proven elsewhere with the needs of a territory.

The library first; the ``implant-match`` command is a thin layer over it::

    import implant_match as im

    ds = im.load_dataset(needs="data/needs.yaml", enterprises="data/enterprises.yaml")
    best = im.rank(ds, territory="metropole-lyon", top=3)
    print(best[0].to_dict())          # what `implant-match rank --format json` prints

:func:`load_dataset` and :meth:`Dataset.from_records` validate data from files or from
memory (raising :class:`DataError` with every located problem); :func:`rank`,
:func:`explain`, :func:`gaps`, :func:`cohort` and :func:`report` take a dataset or an
:class:`Engine` (the data analysed once, for repeated calls); :func:`render_report` makes a
report one HTML page.

Names are imported on first use, so that ``import implant_match`` (and the command's
``--help``) stays instant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from implant_match.api import cohort, explain, gaps, rank, report
    from implant_match.dataset import Dataset, load_dataset
    from implant_match.dossier import Report
    from implant_match.dossier_html import render_report
    from implant_match.errors import (
        DataError,
        ExitCode,
        ImplantMatchError,
        Problem,
        UnknownIdError,
        UsageError,
    )
    from implant_match.gap_report import GapReport
    from implant_match.promotion import Cohort
    from implant_match.ranking import Engine
    from implant_match.results import Explanation, Fit
    from implant_match.weights import Weights

_EXPORTS = {
    "load_dataset": "implant_match.dataset",
    "Dataset": "implant_match.dataset",
    "Engine": "implant_match.ranking",
    "rank": "implant_match.api",
    "explain": "implant_match.api",
    "gaps": "implant_match.api",
    "cohort": "implant_match.api",
    "report": "implant_match.api",
    "Report": "implant_match.dossier",
    "render_report": "implant_match.dossier_html",
    "Fit": "implant_match.results",
    "Explanation": "implant_match.results",
    "GapReport": "implant_match.gap_report",
    "Cohort": "implant_match.promotion",
    "Weights": "implant_match.weights",
    "DataError": "implant_match.errors",
    "ExitCode": "implant_match.errors",
    "ImplantMatchError": "implant_match.errors",
    "Problem": "implant_match.errors",
    "UnknownIdError": "implant_match.errors",
    "UsageError": "implant_match.errors",
}

__all__ = [
    "Cohort",
    "DataError",
    "Dataset",
    "Engine",
    "ExitCode",
    "Explanation",
    "Fit",
    "GapReport",
    "ImplantMatchError",
    "Problem",
    "Report",
    "UnknownIdError",
    "UsageError",
    "Weights",
    "__version__",
    "cohort",
    "explain",
    "gaps",
    "load_dataset",
    "rank",
    "render_report",
    "report",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'implant_match' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
