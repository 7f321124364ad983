#!/usr/bin/env python3
"""pangaea against PyTorch eager on the same networks, in one run, interleaved.

  python3 bench/side_by_side.py --pangaea target/release/pangaea \\
      [--pangaea-tch target-tch/release/pangaea] [--rounds 3] [--threads 2] [--json out.json]

Runs, in each of `--rounds` rounds, every benchmark on every engine (the engines' order rotates
from round to round, so a slow minute of a shared machine does not fall on one engine only):

- `wrn-step`: one WRN-10-4 training step at batch 128 (median of 5 timed steps after a warm-up):
  ReLU, and `alpha * x * sigmoid(beta * abs(x))` with per-channel parameters;
- `tiny-epoch`: training images per second of the tiny net over one epoch of 10,000
  Fashion-MNIST images (Debian's dataset-fashion-mnist): ReLU, and `alpha * x * sigmoid(beta * x)`.

Engines: pangaea on burn's `flex` (`--device flex`), pangaea on LibTorch (`--device cpu` of a
`--features tch` build, when `--pangaea-tch` is given), and PyTorch eager
(bench/pytorch_reference.py, with the `python3` on PATH, which must have torch). Every engine
uses `--threads` CPU threads. Prints a markdown table of medians over the rounds and the ratio of
each engine to PyTorch, with the CPU model and the date: paste it into BENCHMARKS.md.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BENCHMARKS = [
    ("wrn-step", "relu"),
    ("wrn-step", "alpha * x * sigmoid(beta * abs(x))"),
    ("tiny-epoch", "relu"),
    ("tiny-epoch", "alpha * x * sigmoid(beta * x)"),
]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run(cmd, env):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    return out.stdout


def pangaea(binary, device, benchmark, act, env):
    """Seconds per step (wrn-step) or training images per second (tiny-epoch)."""
    if benchmark == "wrn-step":
        text = run(
            [binary, "bench", "train", "--arch", "wrn-10-4", "--batch-size", "128",
             "--steps", "5", "--act", act, "--device", device, "--json"],
            env,
        )
        return json.loads(text.strip().splitlines()[-1])["median_seconds"]
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        run(
            [binary, "train", "--dataset", "fashion-mnist", "--arch", "tiny", "--act", act,
             "--epochs", "1", "--limit-train", "10000", "--device", device, "--out", out],
            env,
        )
        with open(out) as f:
            return json.load(f)["images_per_second"]


def pytorch(benchmark, act, threads, env):
    text = run(
        [sys.executable if not os.environ.get("PYTHON") else os.environ["PYTHON"],
         os.path.join(HERE, "pytorch_reference.py"), benchmark, "--act", act,
         "--threads", str(threads)],
        env,
    )
    result = json.loads(text.strip().splitlines()[-1])
    return result["median_seconds"] if benchmark == "wrn-step" else result["images_per_second"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pangaea", required=True, help="a release pangaea binary (flex)")
    p.add_argument("--pangaea-tch", help="a release pangaea binary built with --features tch")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--only", choices=["wrn-step", "tiny-epoch"], help="one benchmark only")
    p.add_argument("--json", help="also write every measurement here")
    args = p.parse_args()
    env = dict(os.environ)
    env["RAYON_NUM_THREADS"] = str(args.threads)
    env["PANGAEA_THREADS"] = str(args.threads)
    env["OMP_NUM_THREADS"] = str(args.threads)
    engines = [("pangaea flex", lambda b, a: pangaea(args.pangaea, "flex", b, a, env))]
    if args.pangaea_tch:
        engines.append(
            ("pangaea libtorch", lambda b, a: pangaea(args.pangaea_tch, "cpu", b, a, env))
        )
    engines.append(("pytorch eager", lambda b, a: pytorch(b, a, args.threads, env)))
    benchmarks = [b for b in BENCHMARKS if args.only in (None, b[0])]
    samples = {(b, a, e): [] for b, a in benchmarks for e, _ in engines}
    for r in range(args.rounds):
        for benchmark, act in benchmarks:
            order = engines[r % len(engines):] + engines[: r % len(engines)]
            for name, measure in order:
                value = measure(benchmark, act)
                samples[(benchmark, act, name)].append(value)
                print(f"round {r + 1}: {benchmark} {act!r} {name}: {value:.4g}", file=sys.stderr)
    date = datetime.date.today().isoformat()
    print(f"\n{date}, {cpu_model()}, {args.threads} threads, {args.rounds} rounds "
          f"(medians; ratio = engine / PyTorch eager, for seconds per step lower is better, "
          f"for images/s higher is better)\n")
    print("| benchmark | activation | engine | median | runs | ratio to PyTorch |")
    print("|---|---|---|---|---|---|")
    rows = []
    for benchmark, act in benchmarks:
        ref = statistics.median(samples[(benchmark, act, "pytorch eager")])
        for name, _ in engines:
            values = samples[(benchmark, act, name)]
            med = statistics.median(values)
            unit = "s/step" if benchmark == "wrn-step" else "images/s"
            runs = ", ".join(f"{v:.3g}" for v in values)
            print(f"| {benchmark} | `{act}` | {name} | {med:.4g} {unit} | {runs} | {med / ref:.2f}× |")
            rows.append({"benchmark": benchmark, "activation": act, "engine": name,
                         "median": med, "unit": unit, "values": values, "ratio": med / ref})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": date, "cpu": cpu_model(), "threads": args.threads,
                       "rounds": args.rounds, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
