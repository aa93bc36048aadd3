"""The library's verbs: rank, explain, gaps, cohort and report over a dataset or an engine.

Each takes a :class:`~implant_match.dataset.Dataset` (analysed on the spot) or an
:class:`~implant_match.ranking.Engine` (analysed once, for repeated calls) and returns a
result whose ``to_dict()`` is what the command's ``--format json`` prints::

    import implant_match as im

    ds = im.load_dataset(needs="data/needs.yaml", enterprises="data/enterprises.yaml")
    engine = im.Engine(ds)
    for fit in im.rank(engine, territory="metropole-lyon", top=3):
        print(fit.need.title, fit.enterprise_id, fit.score)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date

from implant_match.dataset import Dataset
from implant_match.dossier import Report, SourceFile, build_report
from implant_match.gap_report import DEFAULT_THRESHOLD, GapReport, find_gaps
from implant_match.promotion import DEFAULT_COVER, DEFAULT_TOLERANCE, Cohort, choose_cohort
from implant_match.ranking import Engine, RankOptions, Shortlist
from implant_match.results import Explanation, Fit, fits
from implant_match.selection import Selection
from implant_match.session import with_meaning
from implant_match.weights import Weights

WeightsLike = Weights | Mapping[str, float] | None


def engine_of(data: Dataset | Engine, jobs: int = 1) -> Engine:
    """``data`` itself when it is an engine, else a new engine over the dataset."""
    return data if isinstance(data, Engine) else Engine(data, jobs=jobs)


def weights_of(weights: WeightsLike) -> Weights:
    """``Weights`` from a mapping of part names to weights (the others keep their default)."""
    if weights is None:
        return Weights()
    if isinstance(weights, Weights):
        return weights
    return Weights(**dict(weights))


def rank_options(
    *,
    need: str | Iterable[str] | None = None,
    territory: str | None = None,
    theme: str | None = None,
    enterprise: str | None = None,
    top: int = 5,
    min_score: float | None = None,
    weights: WeightsLike = None,
    stability: bool = True,
    exclude: Iterable[str] = (),
    include: Iterable[str] = (),
    keep_present: bool = False,
    show_decided: bool = False,
) -> RankOptions:
    """The options of one ranking, as ``rank`` takes them."""
    needs = (need,) if isinstance(need, str) else tuple(need or ())
    return RankOptions(
        need_ids=needs,
        territory=territory,
        theme=theme,
        enterprise=enterprise,
        top=top,
        min_score=min_score or 0.0,
        weights=weights_of(weights),
        stability=stability,
        selection=Selection(tuple(exclude), tuple(include), keep_present, show_decided),
    )


def shortlist(data: Dataset | Engine, options: RankOptions, jobs: int = 1) -> Shortlist:
    """The shortlist ``options`` describe, ranked in up to ``jobs`` processes."""
    engine = engine_of(data, jobs)
    options = replace(options, weights=with_meaning(engine, options.weights, jobs=jobs))
    return engine.rank(options, jobs)


def rank(
    data: Dataset | Engine,
    *,
    need: str | Iterable[str] | None = None,
    territory: str | None = None,
    theme: str | None = None,
    enterprise: str | None = None,
    top: int = 5,
    min_score: float | None = None,
    weights: WeightsLike = None,
    stability: bool = True,
    jobs: int = 1,
    exclude: Iterable[str] = (),
    include: Iterable[str] = (),
    keep_present: bool = False,
    show_decided: bool = False,
) -> list[Fit]:
    """Each selected need's best ``top`` enterprises (or, with ``enterprise``, that
    enterprise's best needs), in report order: territory, priority, need id; candidates by
    score, ties by id. ``[f.to_dict() for f in rank(...)]`` is ``rank --format json``.

    Rejected and ineligible pairs (the dataset's decisions) and enterprises already
    present on a need's territory are left out, unless ``show_decided`` or
    ``keep_present``; ``exclude`` leaves enterprises out, ``include`` keeps them whatever
    a decision or presence says."""
    options = rank_options(
        need=need,
        territory=territory,
        theme=theme,
        enterprise=enterprise,
        top=top,
        min_score=min_score,
        weights=weights,
        stability=stability,
        exclude=exclude,
        include=include,
        keep_present=keep_present,
        show_decided=show_decided,
    )
    engine = engine_of(data, jobs)
    names = {e.id: e.name for e in engine.dataset.enterprises}
    return fits(shortlist(engine, options, jobs), names)


def explain(
    data: Dataset | Engine, enterprise_id: str, need_id: str, weights: WeightsLike = None
) -> Explanation:
    """One pair's score part by part, with its evidence (or why the territory rule keeps
    the enterprise out)."""
    engine = engine_of(data)
    result = engine.explain(enterprise_id, need_id, with_meaning(engine, weights_of(weights)))
    need = engine.dataset.need_by_id[need_id]
    return Explanation(
        need,
        engine.dataset.enterprise_by_id[enterprise_id],
        result,
        engine.standing(need, enterprise_id),
    )


def gaps(
    data: Dataset | Engine,
    *,
    territory: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    weights: WeightsLike = None,
) -> GapReport:
    """Needs whose best candidate scores below ``threshold``, and priority themes that no
    need or no enterprise covers."""
    engine = engine_of(data)
    return find_gaps(engine, with_meaning(engine, weights_of(weights)), threshold, territory)


def cohort(
    data: Dataset | Engine,
    size: int,
    *,
    territory: str | None = None,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    method: str = "auto",
    cover_threshold: float = DEFAULT_COVER,
    weights: WeightsLike = None,
    keep_present: bool = False,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Cohort:
    """The ``size`` enterprises that together serve the needs best (a promotion), with
    the near-ties within ``tolerance`` of its objective. Selected enterprises (the
    dataset's decisions) are pinned; rejected, ineligible and already present pairs
    gain nothing (presence counts unless ``keep_present``)."""
    engine = engine_of(data)
    return choose_cohort(
        engine,
        size,
        with_meaning(engine, weights_of(weights)),
        territory,
        tuple(include),
        tuple(exclude),
        method,
        cover_threshold,
        keep_present,
        tolerance,
    )


def report(
    data: Dataset | Engine,
    *,
    need: str | Iterable[str] | None = None,
    territory: str | None = None,
    theme: str | None = None,
    top: int = 5,
    min_score: float | None = None,
    weights: WeightsLike = None,
    stability: bool = True,
    cohort: int | None = None,
    files: Iterable[SourceFile] = (),
    created: date | None = None,
    jobs: int = 1,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Report:
    """The committee dossier of the selected needs, as data: their shortlists, the score
    levels reached, a heat map, the gaps and, with ``cohort``, a proposed promotion of that
    size and its near-ties within ``tolerance`` (a share of the objective).
    ``implant_match.dossier_html.render_report(report, language)`` makes it HTML."""
    options = rank_options(
        need=need,
        territory=territory,
        theme=theme,
        top=top,
        min_score=min_score,
        weights=weights,
        stability=stability,
    )
    return build_report(
        engine_of(data, jobs),
        options,
        cohort_size=cohort,
        files=tuple(files),
        created=created,
        jobs=jobs,
        tolerance=tolerance,
    )
