"""Benchmarks of implant-match against bare rapidfuzz baselines, side by side.

    python benchmarks/bench.py            # 50x200 and 1000x10000
    python benchmarks/bench.py --large    # adds 1000x100000
    python benchmarks/bench.py --sizes 200x2000 --no-stability

For each size (needs x enterprises) the data is generated once with
``benchmarks/generate.py`` into ``benchmarks/out/NxM/`` (seeded, reused on later runs), then:

* the tool end to end, as a user runs it: ``implant-match rank --top 10 --format json
  --needs ... --enterprises ...`` in a subprocess (output to a file), wall time, peak
  resident memory of its largest process (``os.wait4``'s ``ru_maxrss``) and peak memory
  of all its processes (PSS summed over the process tree, sampled every 0.2 s: the tool
  forks workers that share the analysed data), with the cache of analysed data turned
  off (a cold run: load, validate, analyse, score, rank, write);
* the same with ``--no-stability``, cold, and with ``--jobs 1`` (one process), cold;
* the same twice more on an empty private cache folder (data the tool caches, up to
  32 MiB): the first run writes the cache entry, the second (a repeated run on the same
  files) reads it;
* baseline 1: bare ``rapidfuzz.process.cdist(need_texts, enterprise_texts,
  scorer=fuzz.token_set_ratio, workers=-1)`` in chunks of needs (bounded memory), timed
  over every pair, or over the first needs and extrapolated when the size is too large;
* baseline 2: the naive per-pair Python loop of ``fuzz.token_set_ratio``, timed on a
  subset of pairs and extrapolated to the full size;
* a check, in-process, that the top-10 lists are the same when the enterprises are
  scored in one chunk or in many (``Scorer.blocks(..., chunk=...)``);
* with ``--repeat N``, the cold run (stability on) and the bare cdist again, alternating,
  until each has N timings (sizes whose cdist is timed in full): their rows show the
  medians, and a note lists every round's figures (one run moves by 15 % or more on a
  shared machine).

Each measurement runs in its own child process, so each peak memory figure is that
process's own. Finally ``implant-match --help`` and ``--version`` are timed against
``python -c "import typer"`` (best of 10 interleaved rounds). See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = ("50x200", "1000x10000")
LARGE_SIZE = "1000x100000"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # the tool's own limit (implant_match.loading)
BIG_MAX_BYTES = 4 * 1024**3
TOP = 10
STAB_LABEL = "tool (rank as is), cold"
NOSTAB_LABEL = "tool --no-stability, cold"
ONE_JOB_LABEL = "tool --jobs 1 (one process), cold"
CDIST_CELLS = 5_000_000  # need x enterprise cells per cdist chunk (float32: 20 MB)


# -- child processes --------------------------------------------------------------------


@dataclass
class Run:
    """One child process: wall time, peak RSS, exit code, what it printed as JSON."""

    seconds: float
    peak_mib: float
    code: int
    report: dict[str, object] = field(default_factory=dict)
    stderr: str = ""
    killed: bool = False
    tree_mib: float | None = None  # peak PSS summed over the process tree (sampled)


# A child's ``ru_maxrss`` starts from the high-water mark of the process that forked it
# (Linux copies it at fork and keeps it across exec), so a child forked by this script,
# whose memory grew while it generated data or read outputs, would inherit that figure.
# Each measured command is therefore forked by this small, freshly exec'd launcher, which
# times it, applies the timeout, and writes seconds, peak RSS and exit code to a file.
LAUNCHER = """
import json, os, signal, sys, time
result, timeout, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]

def tree_pss_kib(root):
    # proportional set size summed over the process and its descendants: pages shared
    # by forked workers are counted once in all (Linux; 0 where /proc cannot tell)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as handle:
                    todo.extend(int(child) for child in handle.read().split())
        except (OSError, StopIteration, ValueError):
            pass
    return total

start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
killed = False
tree_peak, next_sample = 0, 0.0
while True:
    done, status, usage = os.wait4(pid, os.WNOHANG)
    if done:
        break
    now = time.perf_counter()
    if timeout > 0 and now - start > timeout:
        os.kill(pid, signal.SIGKILL)
        killed = True
        done, status, usage = os.wait4(pid, 0)
        break
    if now >= next_sample:  # every 0.2 s: reading /proc costs a little CPU
        tree_peak = max(tree_peak, tree_pss_kib(pid))
        next_sample = time.perf_counter() + 0.2
    time.sleep(0.01)
seconds = time.perf_counter() - start
with open(result, "w") as handle:
    json.dump({"seconds": seconds, "peak_kib": usage.ru_maxrss, "tree_kib": tree_peak,
               "killed": killed, "code": os.waitstatus_to_exitcode(status)}, handle)
"""


def run_child(
    cmd: list[str], stdout: Path, env: dict[str, str] | None = None, timeout: float | None = None
) -> Run:
    """Run ``cmd`` with its output in ``stdout``; wall time and that process's peak RSS.

    The launcher's ``os.wait4`` gives the resource usage of this one child
    (``RUSAGE_CHILDREN`` would give the largest of all children so far). With ``timeout``,
    the child is killed when it runs longer (``Run.killed``; its time is then the timeout).
    """
    err_path = stdout.with_name(stdout.name + ".stderr")
    result = stdout.with_name(stdout.name + ".run")
    result.unlink(missing_ok=True)
    launcher = [sys.executable, "-S", "-c", LAUNCHER, str(result), str(timeout or 0)]
    with stdout.open("wb") as out, err_path.open("wb") as err:
        subprocess.run(
            [*launcher, *cmd],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            check=True,
        )
    measured = json.loads(result.read_text())
    killed = bool(measured["killed"])
    return Run(
        float(timeout) if killed and timeout else float(measured["seconds"]),
        measured["peak_kib"] / 1024,
        int(measured["code"]),
        {},
        err_path.read_text(encoding="utf-8", errors="replace"),
        killed,
        measured.get("tree_kib", 0) / 1024 or None,
    )


def worker_report(run: Run, stdout: Path) -> dict[str, object]:
    """The JSON line a worker printed last."""
    lines = stdout.read_text(encoding="utf-8").strip().splitlines()
    return json.loads(lines[-1]) if run.code == 0 and lines else {}


def tool_executable(explicit: str | None) -> str:
    """The installed console script itself, not a version-manager shim in front of it."""
    if explicit:
        return explicit
    beside = Path(sysconfig.get_path("scripts")) / "implant-match"
    if beside.is_file():
        return str(beside)
    found = shutil.which("implant-match")
    if not found:
        sys.exit("implant-match is not installed (pip install -e .)")
    return found


def provenance() -> str:
    """Which implant_match the tool imports, and the git state of its source tree."""
    found = subprocess.run(
        [sys.executable, "-c", "import implant_match as m; print(m.__version__, m.__file__)"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    if len(found) != 2:
        return "package: implant_match not importable"
    version, where = found
    package = Path(where).parent
    git = ["git", "-C", str(package)]
    head = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "."], capture_output=True, text=True, check=False
    ).stdout.strip()
    state = f"git {head}{' + uncommitted changes' if dirty else ''}" if head else "not in git"
    return f"package: implant_match {version} from {package} ({state})"


def worker(kind: str, *args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--worker", kind, *args]


# -- the workers (run in their own process) ---------------------------------------------


def load_texts(needs_path: Path, enterprises_path: Path) -> tuple[list[str], list[str]]:
    """Need: title + description + keywords; enterprise: name + description + keywords."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with needs_path.open(encoding="utf-8") as handle:
        needs = yaml.load(handle, Loader=loader)["needs"]
    with enterprises_path.open(encoding="utf-8") as handle:
        enterprises = yaml.load(handle, Loader=loader)["enterprises"]
    need_texts = [" ".join([n["title"], n["description"], *n.get("keywords", [])]) for n in needs]
    enterprise_texts = [
        " ".join([e["name"], e["description"], *e.get("keywords", [])]) for e in enterprises
    ]
    return need_texts, enterprise_texts


def worker_cdist(needs_path: Path, enterprises_path: Path, max_pairs: int) -> dict[str, object]:
    """Bare cdist over all needs, or over the first needs when there are too many pairs."""
    import numpy as np
    from rapidfuzz import fuzz, process

    need_texts, enterprise_texts = load_texts(needs_path, enterprises_path)
    n, m = len(need_texts), len(enterprise_texts)
    measured_needs = n if n * m <= max_pairs else max(1, max_pairs // m)
    rows = max(1, CDIST_CELLS // m)
    best = np.empty((measured_needs, min(TOP, m)), dtype=np.int64)
    seconds = 0.0
    for start in range(0, measured_needs, rows):
        stop = min(start + rows, measured_needs)
        began = time.perf_counter()
        scores = process.cdist(
            need_texts[start:stop], enterprise_texts, scorer=fuzz.token_set_ratio, workers=-1
        )
        seconds += time.perf_counter() - began
        # keep each need's top 10, as the tool does (outside the timed part)
        best[start:stop] = np.argpartition(-scores, min(TOP, m) - 1, axis=1)[:, :TOP]
    return {
        "seconds": seconds,
        "measured_needs": measured_needs,
        "needs": n,
        "enterprises": m,
        "full_seconds": seconds * n / measured_needs,
        "extrapolated": measured_needs < n,
        "chunk_rows": rows,
    }


def worker_naive(needs_path: Path, enterprises_path: Path, pairs: int) -> dict[str, object]:
    """``for need: for enterprise: fuzz.token_set_ratio(need, enterprise)`` on a subset."""
    from rapidfuzz import fuzz

    need_texts, enterprise_texts = load_texts(needs_path, enterprises_path)
    n, m = len(need_texts), len(enterprise_texts)
    if n * m <= pairs:
        sub_n, sub_m = n, m
    else:
        sub_n = min(n, 20)
        sub_m = min(m, max(1, pairs // sub_n))
    needs, enterprises = need_texts[:sub_n], enterprise_texts[:sub_m]
    began = time.perf_counter()
    total = 0.0
    for a in needs:
        for b in enterprises:
            total += fuzz.token_set_ratio(a, b)
    seconds = time.perf_counter() - began
    measured = sub_n * sub_m
    return {
        "seconds": seconds,
        "measured_pairs": measured,
        "pairs": n * m,
        "full_seconds": seconds * (n * m) / measured,
        "extrapolated": measured < n * m,
        "checksum": total,
    }


def worker_chunks(
    needs_path: Path, enterprises_path: Path, _: int, reference_cells: int = 20_000_000
) -> dict[str, object]:
    """Top-10 lists in one chunk vs many; stage timings of the library, in-process."""
    import functools
    import resource

    import numpy as np

    import implant_match.scoring as scoring
    from implant_match.dataset import load_dataset
    from implant_match.ranking import Engine
    from implant_match.weights import Weights

    def peak_mib() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    timings: dict[str, float] = {}
    peaks: dict[str, float] = {"imports": peak_mib()}
    began = time.perf_counter()
    dataset = load_dataset(needs_path, enterprises_path)
    timings["load and validate"] = time.perf_counter() - began
    peaks["load and validate"] = peak_mib()
    began = time.perf_counter()
    engine = Engine(dataset)
    timings["analyse and index (Engine)"] = time.perf_counter() - began
    peaks["Engine"] = peak_mib()
    needs = list(engine.dataset.needs)
    n_ent = len(engine.dataset.enterprises)
    weights = Weights()
    original = engine.scorer.blocks
    counted: list[int] = []

    def tops_with(chunk: int | None) -> list[list[tuple[float, int]]]:
        """Top 10 with ``chunk`` enterprises per block (None: whatever the library does)."""
        method = (
            original
            if chunk is None
            else functools.partial(type(engine.scorer).blocks, engine.scorer, chunk=chunk)
        )

        def counting(rows: np.ndarray, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            blocks = 0
            for item in method(rows, *args, **kwargs):
                blocks += 1
                yield item
            counted.append(blocks)

        engine.scorer.blocks = counting  # type: ignore[method-assign]
        try:
            return engine.top_candidates(needs, weights, TOP, 0.0)
        finally:
            engine.scorer.blocks = original  # type: ignore[method-assign]

    # First the library as it is (its own chunk size), so that the peak memory after it is
    # the tool's; ru_maxrss only grows.
    began = time.perf_counter()
    default = tops_with(None)
    default_blocks = counted[-1]
    timings[f"score every pair, keep top 10 (library default, {chunks(default_blocks)})"] = (
        time.perf_counter() - began
    )
    peaks[f"scoring in {chunks(default_blocks)}"] = peak_mib()

    # The reference: every enterprise in one chunk, unless the dense need x enterprise
    # arrays of one chunk would be too large (then the largest chunk within the budget).
    reference = (
        n_ent
        if len(needs) * n_ent <= reference_cells
        else max(1, reference_cells // max(1, len(needs)))
    )
    began = time.perf_counter()
    one = tops_with(reference)
    reference_blocks = counted[-1]
    timings[f"same in {chunks(reference_blocks)}"] = time.perf_counter() - began
    peaks[f"scoring in {chunks(reference_blocks)}"] = peak_mib()
    comparisons = []
    if default_blocks != reference_blocks:
        comparisons.append(
            {
                "chunk": scoring.CHUNK,
                "chunks": default_blocks,
                "same": default == one,
                "differing_needs": sum(a != b for a, b in zip(one, default, strict=True)),
            }
        )
    for chunk in sorted({max(1, n_ent // 7 + 1), 997} - {reference, scoring.CHUNK}):
        if chunk >= n_ent:
            continue
        many = tops_with(chunk)
        comparisons.append(
            {
                "chunk": chunk,
                "chunks": counted[-1],
                "same": many == one,
                "differing_needs": sum(a != b for a, b in zip(one, many, strict=True)),
            }
        )

    # Does assigning scoring.CHUNK change anything? (blocks' default is bound at def.)
    saved = scoring.CHUNK
    scoring.CHUNK = 1 if n_ent > 1 else 2
    try:
        tops_with(None)
    finally:
        scoring.CHUNK = saved
    patched_chunks = counted[-1]

    # What rank does after loading: score, keep each need's pool, stability, explain the
    # shown pairs (in batch: partners and competitors of all of them at once).
    from implant_match.ranking import RankOptions

    began = time.perf_counter()
    engine.rank(RankOptions(top=TOP, weights=weights))
    timings["rank (score, top 10, stability, explain the shown pairs)"] = (
        time.perf_counter() - began
    )
    peaks["rank"] = peak_mib()
    return {
        "comparisons": comparisons,
        "reference_blocks": reference_blocks,
        "patched_chunk_blocks": patched_chunks,
        "expected_patched_blocks": n_ent,
        "timings": timings,
        "peak_mib_after": peaks,
    }


def chunks(count: int) -> str:
    return f"{count} chunk{'s' * (count != 1)}"


def run_worker(kind: str, args: list[str]) -> None:
    needs_path, enterprises_path, number = Path(args[0]), Path(args[1]), int(args[2])
    functions = {"cdist": worker_cdist, "naive": worker_naive, "chunks": worker_chunks}
    report = functions[kind](needs_path, enterprises_path, number)
    print(json.dumps(report))


# -- the orchestrator -------------------------------------------------------------------


def parse_size(text: str) -> tuple[int, int]:
    try:
        needs, enterprises = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size '{text}' is not NEEDSxENTERPRISES") from None
    return needs, enterprises


def ensure_data(size: str, seed: int, out: Path, regenerate: bool) -> tuple[Path, Path]:
    n, m = parse_size(size)
    folder = out / size if seed == 1 else out / f"{size}-seed{seed}"
    needs, enterprises = folder / "needs.yaml", folder / "enterprises.yaml"
    stamp = folder / "generated.json"
    wanted = {"needs": n, "enterprises": m, "seed": seed}
    fresh = (
        needs.is_file()
        and enterprises.is_file()
        and stamp.is_file()
        and json.loads(stamp.read_text()) == wanted
    )
    if regenerate or not fresh:
        began = time.perf_counter()
        # in a child process, so that this one stays small (see LAUNCHER)
        subprocess.run(
            [
                sys.executable,
                str(HERE / "generate.py"),
                "--needs",
                str(n),
                "--enterprises",
                str(m),
                "--seed",
                str(seed),
                "--out",
                str(folder),
            ],
            check=True,
            stderr=subprocess.DEVNULL,
        )
        stamp.write_text(json.dumps(wanted))
        print(f"  generated {folder} in {time.perf_counter() - began:.1f} s", flush=True)
    return needs, enterprises


def tool_env(needs: Path, enterprises: Path) -> dict[str, str]:
    env = dict(os.environ)
    # 1000x100000 writes about 62 MiB of enterprises, close to the 64 MiB default limit
    if max(needs.stat().st_size, enterprises.stat().st_size) > DEFAULT_MAX_BYTES // 2:
        env["IMPLANT_MATCH_MAX_BYTES"] = str(BIG_MAX_BYTES)
    return env


@dataclass
class Row:
    size: str
    what: str
    seconds: float
    peak_mib: float | None
    pairs: int
    note: str = ""
    killed: bool = False  # stopped at the timeout: time is a lower bound
    tree_mib: float | None = None  # all processes of the run (PSS), when measured


def fmt_seconds(seconds: float) -> str:
    return f"{seconds:,.2f} s" if seconds < 100 else f"{seconds:,.0f} s"


def fmt_ratio(ratio: float) -> str:
    return f"{ratio:,.2f}" if ratio >= 0.1 else f"{ratio:.3f}"


def print_table(rows: list[Row], cdist: dict[str, float], naive: dict[str, float]) -> None:
    header = (
        "size",
        "run",
        "wall time",
        "peak MiB",
        "all procs MiB",
        "pairs/s",
        "/ cdist",
        "/ naive loop",
    )
    lines = []
    for r in rows:
        more, less = (">", "<") if r.killed else ("", "")
        ratio_c = more + fmt_ratio(r.seconds / cdist[r.size]) if r.size in cdist else "-"
        ratio_n = more + fmt_ratio(r.seconds / naive[r.size]) if r.size in naive else "-"
        lines.append(
            (
                r.size,
                r.what + r.note,
                more + fmt_seconds(r.seconds),
                "-" if r.peak_mib is None else more + f"{r.peak_mib:,.0f}",
                "-" if r.tree_mib is None else more + f"{r.tree_mib:,.0f}",
                less + f"{r.pairs / r.seconds:,.0f}" if r.seconds > 0 else "-",
                ratio_c,
                ratio_n,
            )
        )
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=True)]
    left = {0, 1}

    def show(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if k in left else c.rjust(w)
            for k, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    print(show(header))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print(show(line))


def top_lists(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for record in json.loads(path.read_text(encoding="utf-8")):
        out.setdefault(record["need_id"], []).append(record["enterprise_id"])
    return out


def best_of(commands: list[list[str]], runs: int) -> list[float]:
    """The best wall time of each command over ``runs`` rounds, each round running every
    command once in turn: a busy spell of a shared machine then slows all of them alike
    instead of whichever command happened to run during it."""
    best = [float("inf")] * len(commands)
    for _ in range(runs):
        for k, cmd in enumerate(commands):
            began = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            best[k] = min(best[k], time.perf_counter() - began)
    return best


def baseline_row(
    run: Run, report_path: Path, size: str, label: str, pairs: int, notes: list[str]
) -> Row | None:
    """The table row of a baseline worker's run (None if it failed); notes what was scaled."""
    name = label.split(" token_set_ratio")[0]
    run.report = worker_report(run, report_path)
    if run.code != 0:
        print(f"  {name} failed:\n{run.stderr[-2000:]}", flush=True)
        return None
    rep = run.report
    seconds = float(rep["full_seconds"])  # type: ignore[arg-type]
    extrapolated = bool(rep["extrapolated"])
    if extrapolated and "measured_needs" in rep:  # cdist: the first needs only
        notes.append(
            f"{size}: cdist timed on {rep['measured_needs']} of {rep['needs']} needs "
            f"({float(rep['seconds']):.1f} s), EXTRAPOLATED to all needs"  # type: ignore[arg-type]
        )
    elif extrapolated:  # naive loop: a subset of the pairs
        notes.append(
            f"{size}: naive loop timed on {rep['measured_pairs']:,} pairs "
            f"({float(rep['seconds']):.2f} s), EXTRAPOLATED to {pairs:,} pairs"  # type: ignore[arg-type]
        )
    shown = f"  {name}: {seconds:.2f} s{' (extrapolated)' if extrapolated else ''}"
    if "measured_needs" in rep:
        shown += f", process peak {run.peak_mib:.0f} MiB"
    print(shown, flush=True)
    # an extrapolated naive loop's process held only a subset: its memory says nothing
    peak = None if extrapolated and "measured_pairs" in rep else run.peak_mib
    return Row(size, label, seconds, peak, pairs, " *" if extrapolated else "")


def repeat_rounds(
    rounds: int,
    tool: tuple[Row, list[str], Path, dict[str, str]],
    baseline: tuple[Row, list[str], dict[str, float]],
    outputs: dict[str, Path],
    notes: list[str],
) -> None:
    """Run the cold tool run and the bare cdist again, alternating, until each has
    ``rounds`` timings; their rows then show the medians (peak memory: the largest)."""
    import statistics

    tool_row, cmd, folder, env = tool
    cdist_row, cdist_cmd, cdist_times = baseline
    tool_seconds, base_seconds = [tool_row.seconds], [cdist_row.seconds]
    for round_ in range(2, rounds + 1):
        name = f"rank-stab-{round_}.json"
        run = run_child(cmd, stdout=folder / name, env=env)
        if run.code != 0:
            notes.append(f"{tool_row.size}: repeated tool run {round_} failed ({run.code})")
            return
        tool_seconds.append(run.seconds)
        tool_row.peak_mib = max(tool_row.peak_mib or 0.0, run.peak_mib)
        tool_row.tree_mib = max(tool_row.tree_mib or 0.0, run.tree_mib or 0.0)
        outputs[f"{STAB_LABEL} ({round_})"] = folder / name
        print(f"  {STAB_LABEL}, round {round_}: {run.seconds:.2f} s", flush=True)
        run = run_child(cdist_cmd, folder / f"cdist-{round_}.json")
        report = worker_report(run, folder / f"cdist-{round_}.json")
        if run.code != 0:
            notes.append(f"{tool_row.size}: repeated cdist run {round_} failed ({run.code})")
            return
        base_seconds.append(float(report["full_seconds"]))  # type: ignore[arg-type]
        print(f"  bare cdist, round {round_}: {base_seconds[-1]:.2f} s", flush=True)
    tool_row.seconds = statistics.median(tool_seconds)
    cdist_row.seconds = cdist_times[tool_row.size] = statistics.median(base_seconds)
    tool_row.note = cdist_row.note = f" (median of {rounds})"
    ratios = [b / t for t, b in zip(tool_seconds, base_seconds, strict=True)]
    notes.append(
        f"{tool_row.size}: {rounds} alternating rounds, tool cold "
        + ", ".join(f"{t:.2f}" for t in tool_seconds)
        + " s; bare cdist "
        + ", ".join(f"{b:.2f}" for b in base_seconds)
        + " s; cdist / tool per round "
        + ", ".join(f"{r:.3g}x" for r in ratios)
        + f"; of the medians {cdist_row.seconds / tool_row.seconds:.3g}x"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(DEFAULT_SIZES),
        help=f"comma-separated NEEDSxENTERPRISES (default {','.join(DEFAULT_SIZES)})",
    )
    parser.add_argument("--large", action="store_true", help=f"add {LARGE_SIZE}")
    parser.add_argument("--seed", type=int, default=1, help="data seed (default 1)")
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / "out",
        help="where data and outputs go (default benchmarks/out)",
    )
    parser.add_argument("--regenerate", action="store_true", help="regenerate the data")
    parser.add_argument(
        "--tool",
        help="implant-match executable (default: the installed console script next to this Python)",
    )
    parser.add_argument("--no-tool", action="store_true", help="skip the end-to-end runs")
    parser.add_argument(
        "--no-stability", action="store_true", help="skip the runs with stability on"
    )
    parser.add_argument(
        "--stability-max-pairs",
        type=int,
        default=1_000_000_000,
        help="run with stability on (and the cached runs) only up to this many pairs "
        "(default 1,000,000,000)",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="skip the two runs through the cache"
    )
    parser.add_argument(
        "--cdist-max-pairs",
        type=int,
        default=20_000_000,
        help="above this many pairs, cdist runs on the first needs and is "
        "extrapolated (default 20,000,000)",
    )
    parser.add_argument(
        "--naive-pairs",
        type=int,
        default=20_000,
        help="pairs the naive loop really runs (default 20,000)",
    )
    parser.add_argument(
        "--no-chunk-check",
        action="store_true",
        help="skip the in-process chunking check and stage timings",
    )
    parser.add_argument(
        "--large-budget",
        type=float,
        default=120.0,
        help=f"skip the tool on {LARGE_SIZE} when a 10-million-pair run took "
        "longer than this many seconds (default 120; 0 = never skip)",
    )
    parser.add_argument(
        "--startup-runs",
        type=int,
        default=10,
        help="interleaved rounds of the start-up commands (best kept; default 10; 0 skips)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        help="kill an end-to-end run after this many seconds and report bounds (default: none)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of the cold tool run (stability on) and the bare cdist, alternating, "
        "for the sizes whose cdist is not extrapolated; the table shows the medians "
        "(default 1)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.worker:
        run_worker(args.worker, rest)
        return 0
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if args.large and LARGE_SIZE not in sizes:
        sizes.append(LARGE_SIZE)
    for size in sizes:
        parse_size(size)
    tool = tool_executable(args.tool)
    print(
        f"implant-match: {tool}\n{provenance()}\npython: {sys.executable}\n"
        f"cpus: {os.cpu_count()}\n",
        flush=True,
    )

    rows: list[Row] = []
    cdist: dict[str, float] = {}
    naive: dict[str, float] = {}
    notes: list[str] = []
    slow_e2e: float | None = None
    for size in sizes:
        n, m = parse_size(size)
        pairs = n * m
        print(f"== {size} ({pairs:,} pairs)", flush=True)
        needs, enterprises = ensure_data(size, args.seed, args.out, args.regenerate)
        folder = needs.parent
        data = [str(needs), str(enterprises)]
        env = tool_env(needs, enterprises)

        skip_tool = args.no_tool
        if (
            size == LARGE_SIZE
            and slow_e2e is not None
            and args.large_budget
            and slow_e2e > args.large_budget
        ):
            skip_tool = True
            notes.append(
                f"{size}: tool runs skipped: the 10-million-pair run took "
                f"{slow_e2e:.0f} s (> --large-budget {args.large_budget:.0f} s)"
            )
        # Cold runs have the cache turned off; the cached pair runs twice on an empty
        # private cache folder: the first run writes the entry, the second reads it.
        cold = {"IMPLANT_MATCH_CACHE": "off"}
        cache_folder = folder / "cache"
        shutil.rmtree(cache_folder, ignore_errors=True)
        warm = {"IMPLANT_MATCH_CACHE_DIR": str(cache_folder)}
        variants: list[tuple[str, list[str], str, dict[str, str]]] = []
        if not args.no_stability and pairs <= args.stability_max_pairs:
            variants.append((STAB_LABEL, [], "rank-stab.json", cold))
        variants.append((NOSTAB_LABEL, ["--no-stability"], "rank-nostab.json", cold))
        if not args.no_stability and pairs <= args.stability_max_pairs:
            variants.append((ONE_JOB_LABEL, ["--jobs", "1"], "rank-jobs1.json", cold))
        from implant_match.cache import MAX_BYTES as CACHE_MAX_BYTES

        cacheable = needs.stat().st_size + enterprises.stat().st_size <= CACHE_MAX_BYTES
        if not args.no_cache and cacheable and pairs <= args.stability_max_pairs:
            variants.append(("tool, 1st run, writes cache", [], "rank-cache1.json", warm))
            variants.append(("tool, next run, from cache", [], "rank-cache2.json", warm))
        outputs = {}
        first_rows: dict[str, Row] = {}  # the first row of what --repeat runs again

        def rank_cmd(flags: list[str], data: list[str] = data) -> list[str]:
            return [
                tool,
                *("rank", "--top", str(TOP), "--format", "json", *flags),
                *("--needs", data[0], "--enterprises", data[1]),
            ]

        for label, flags, name, extra in variants if not skip_tool else []:
            cmd = rank_cmd(flags)
            run = run_child(cmd, stdout=folder / name, env={**env, **extra}, timeout=args.timeout)
            if run.killed:
                print(
                    f"  {label}: killed after {run.seconds:.0f} s, {run.peak_mib:.0f} MiB so far",
                    flush=True,
                )
                rows.append(
                    Row(size, label, run.seconds, run.peak_mib, pairs, "", True, run.tree_mib)
                )
                notes.append(
                    f"{size}: {label} was killed at the --timeout of "
                    f"{args.timeout:.0f} s: its figures are bounds (>, <)"
                )
                if pairs >= 10_000_000 and label == NOSTAB_LABEL:
                    slow_e2e = max(slow_e2e or 0.0, run.seconds)
                continue
            if run.code != 0:
                print(f"  {label}: exit {run.code}\n{run.stderr[-2000:]}", flush=True)
                notes.append(f"{size}: {label} failed with exit code {run.code}")
                continue
            print(
                f"  {label}: {run.seconds:.2f} s, {run.peak_mib:.0f} MiB "
                f"(all processes {run.tree_mib or 0:.0f} MiB)",
                flush=True,
            )
            rows.append(Row(size, label, run.seconds, run.peak_mib, pairs, tree_mib=run.tree_mib))
            first_rows[label] = rows[-1]
            outputs[label] = folder / name
            if pairs >= 10_000_000 and label == NOSTAB_LABEL:
                slow_e2e = max(slow_e2e or 0.0, run.seconds)

        for kind, limit, label, timings in (
            ("cdist", args.cdist_max_pairs, "bare cdist token_set_ratio", cdist),
            ("naive", args.naive_pairs, "naive loop token_set_ratio", naive),
        ):
            run = run_child(worker(kind, *data, str(limit)), folder / f"{kind}.json")
            row = baseline_row(run, folder / f"{kind}.json", size, label, pairs, notes)
            if row is not None:
                timings[size] = row.seconds
                rows.append(row)
                first_rows[kind] = row

        tool_row, cdist_row = first_rows.get(STAB_LABEL), first_rows.get("cdist")
        if args.repeat > 1 and tool_row and cdist_row and not cdist_row.note:
            repeat_rounds(
                args.repeat,
                (tool_row, rank_cmd([]), folder, {**env, **cold}),
                (cdist_row, worker("cdist", *data, str(args.cdist_max_pairs)), cdist),
                outputs,
                notes,
            )
        if len(outputs) >= 2:
            lists = [top_lists(p) for p in outputs.values()]
            same = all(other == lists[0] for other in lists[1:])
            notes.append(
                f"{size}: same top-10 in every run (stability on/off, one or more "
                "processes, cold/cached): "
                f"{'yes' if same else 'no'}"
            )

        if not args.no_chunk_check:
            if size == LARGE_SIZE and skip_tool:
                notes.append(f"{size}: chunk check skipped with the tool runs")
                continue
            run = run_child(worker("chunks", *data, "0"), folder / "chunks.json", env=env)
            run.report = worker_report(run, folder / "chunks.json")
            if run.code != 0:
                print(f"  chunk check failed:\n{run.stderr[-3000:]}", flush=True)
                notes.append(f"{size}: chunk check failed")
                continue
            rep = run.report
            for c in rep["comparisons"]:  # type: ignore[union-attr]
                ref = rep["reference_blocks"]
                ref_text = "1 chunk" if ref == 1 else f"{ref} chunks (reference)"
                line = (
                    f"{size}: same top-10 in {ref_text} and {c['chunks']} chunks "
                    f"(chunk={c['chunk']}): {'yes' if c['same'] else 'no'}"
                )
                if not c["same"]:
                    line += f" ({c['differing_needs']} needs differ)"
                print(f"  {line}", flush=True)
                notes.append(line)
            if rep["patched_chunk_blocks"] != rep["expected_patched_blocks"]:
                notes.append(
                    f"{size}: setting implant_match.scoring.CHUNK = 1 still gave "
                    f"{chunks(rep['patched_chunk_blocks'])}, not {rep['expected_patched_blocks']}"
                    ": Scorer.blocks binds chunk=CHUNK when the module loads, so patching the "
                    "module constant has no effect (the check passes chunk= explicitly)"
                )
            stages = ", ".join(f"{k} {v:.1f} s" for k, v in rep["timings"].items())  # type: ignore[union-attr]
            peaks = ", ".join(f"{k} {v:,.0f}" for k, v in rep["peak_mib_after"].items())  # type: ignore[union-attr]
            notes.append(f"{size}: in-process peak MiB after: {peaks}")
            notes.append(f"{size}: in-process stages: {stages}")
        print(flush=True)

    print()
    print_table(rows, cdist, naive)
    print(
        "\n/ cdist, / naive loop: wall time divided by that baseline's time for the same size "
        "(below 1: faster than it).\n* extrapolated, see below."
    )
    for note in notes:
        print(f"- {note}")

    if args.startup_runs > 0:
        runs = args.startup_runs
        typer_s, bare_s, help_s, version_s = best_of(
            [
                [sys.executable, "-c", "import typer"],
                [sys.executable, "-c", "pass"],
                [tool, "--help"],
                [tool, "--version"],
            ],
            runs,
        )
        print(f"\nstart-up, best of {runs} interleaved rounds:")
        print(f"  python -c pass            {bare_s * 1000:7.1f} ms")
        print(f"  python -c 'import typer'  {typer_s * 1000:7.1f} ms")
        print(
            f"  implant-match --help      {help_s * 1000:7.1f} ms  "
            f"({help_s / typer_s:.2f} x import typer)"
        )
        print(
            f"  implant-match --version   {version_s * 1000:7.1f} ms  "
            f"({version_s / typer_s:.2f} x import typer)"
        )
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            print(
                "  (PYTHONDONTWRITEBYTECODE is set: modules without a compiled copy, such as\n"
                "  those of an editable install, are compiled again at every run)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
