"""The cost of the meaning part: the tool cold and warm against the bare cdist, same run.

    python benchmarks/bench_meaning.py                  # 1000x10000, one round
    python benchmarks/bench_meaning.py --repeat 3       # medians of 3 alternating rounds

Each round runs, each in its own process (``bench.py``'s launcher: wall time, peak memory):

* ``tool, meaning, cold``: ``implant-match rank --top 10 --format json`` on an empty private
  cache folder: the model is loaded and every need and enterprise text is encoded (in one
  process per CPU), then the run writes the embeddings and the analysed data to the cache;
* ``tool, meaning, warm``: the same command again on that folder: embeddings and analysed
  data are read from the cache, the model is not even imported;
* ``tool --no-semantic, cold``: the command as before the meaning part, cache off;
* ``bare cdist token_set_ratio``: ``bench.py``'s baseline over every pair.

The data is ``bench.py``'s (generated once into ``benchmarks/out/NxM/``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import (  # noqa: E402
    ensure_data,
    provenance,
    run_child,
    tool_env,
    tool_executable,
    worker,
    worker_report,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", default="1000x10000", help="NEEDSxENTERPRISES")
    parser.add_argument("--repeat", type=int, default=1, help="alternating rounds")
    parser.add_argument("--tool", help="the implant-match executable to run")
    parser.add_argument("--timeout", type=float, default=1200.0, help="per tool run (s)")
    args = parser.parse_args(argv)
    print(provenance(), flush=True)
    needs, enterprises = ensure_data(args.size, 1, HERE / "out", False)
    folder = needs.parent
    tool = tool_executable(args.tool)
    command = [tool, "rank", "--top", "10", "--format", "json"]
    command += ["--needs", str(needs), "--enterprises", str(enterprises)]
    times: dict[str, list[float]] = {}
    peaks: dict[str, list[float]] = {}

    def record(name: str, seconds: float, peak: float | None) -> None:
        times.setdefault(name, []).append(seconds)
        if peak is not None:
            peaks.setdefault(name, []).append(peak)
        print(f"  {name}: {seconds:.2f} s" + (f", {peak:.0f} MiB" if peak else ""), flush=True)

    for round_ in range(args.repeat):
        print(f"round {round_ + 1}", flush=True)
        with tempfile.TemporaryDirectory(prefix="meaning-cache-") as cache:
            env = {**tool_env(needs, enterprises), "IMPLANT_MATCH_CACHE_DIR": cache}
            env.pop("IMPLANT_MATCH_CACHE", None)
            env.pop("IMPLANT_MATCH_MODEL", None)
            for name, out in (
                ("tool, meaning, cold", "meaning-cold.json"),
                ("tool, meaning, warm", "meaning-warm.json"),
            ):
                run = run_child(command, folder / out, env=env, timeout=args.timeout)
                if run.code != 0:
                    print(run.stderr[-2000:])
                    return 1
                record(name, run.seconds, run.tree_mib or run.peak_mib)
            same = (folder / "meaning-cold.json").read_bytes() == (
                folder / "meaning-warm.json"
            ).read_bytes()
            print(f"  cold and warm outputs identical: {same}", flush=True)
        off = {**tool_env(needs, enterprises), "IMPLANT_MATCH_CACHE": "off"}
        run = run_child(
            [*command, "--no-semantic"],
            folder / "nosemantic-cold.json",
            env=off,
            timeout=args.timeout,
        )
        record("tool --no-semantic, cold", run.seconds, run.tree_mib or run.peak_mib)
        cdist_out = folder / "meaning-cdist.json"
        run = run_child(worker("cdist", str(needs), str(enterprises), str(10**12)), cdist_out)
        report = worker_report(run, cdist_out)
        record("bare cdist token_set_ratio", float(report["full_seconds"]), run.peak_mib)  # type: ignore[arg-type]

    cdist = statistics.median(times["bare cdist token_set_ratio"])
    print(f"\n{args.size}, medians of {args.repeat} round(s)")
    print(f"{'run':<30} {'time':>10} {'peak MiB':>9} {'vs cdist':>9}")
    for name, values in times.items():
        seconds = statistics.median(values)
        peak = statistics.median(peaks[name]) if name in peaks else float("nan")
        print(f"{name:<30} {seconds:>8.2f} s {peak:>9.0f} {cdist / seconds:>8.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
