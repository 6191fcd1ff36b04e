#!/usr/bin/env python3
"""A/B timing of fa-tune variants on the GPU: two or more arms, alternated, one process each.

    python3 bench/ab_bench.py --arm bshd='--layout bshd' --arm bhsd='--layout bhsd' \\
        'decode_splitkv_hd128_bf16_m16n128w4s2k0f --batch 16 --heads 32 --heads-kv 8
         --seqlen-q 1 --seqlen-k 16384'

An arm is LABEL or LABEL=TOKENS. Its tokens are environment assignments (KEY=VALUE with an
upper-case KEY, e.g. FA_TUNE_TEMPLATES=/tmp/other to try another template tree), bin=PATH (another
fa-tune binary) and anything else, which is passed to `fa-tune bench` after the spec. A spec is
a variant name and its `fa-tune bench` shape arguments (--specs FILE: one a line, '#' comments).

For each spec every arm is first run once untimed (so its compile is outside the rounds and a
failed check stops the spec early); then ROUNDS rounds, the arms' order reversed every round
(A B, B A, ...), each run `fa-tune bench --no-eager --repeat N --json`: one process that
checks the output against the fp32 reference, then times N medians. The table gives each
arm's median of all its medians, their range, the change against the first arm and whether the
two ranges are apart (every median of one arm below every median of the other).

Exit status: 0 every run ok, 3 a check failed (mismatch), 1 any other failure, 2 usage.
"""
import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys

from fa_bench_json import json_rows  # beside this file

ENV_TOKEN = re.compile(r"^[A-Z_][A-Z0-9_]*=")


class Arm:
    def __init__(self, spec, default_bin):
        label, _, rest = spec.partition("=")
        if not label or not re.match(r"^[A-Za-z0-9_.+-]+$", label):
            raise ValueError(f"bad arm '{spec}': expected LABEL or LABEL=TOKENS")
        self.label, self.bin, self.env, self.args = label, default_bin, {}, []
        for tok in shlex.split(rest):
            if tok.startswith("bin="):
                self.bin = tok[4:]
            elif ENV_TOKEN.match(tok):
                key, _, val = tok.partition("=")
                self.env[key] = val
            else:
                self.args.append(tok)


def read_specs(args):
    specs = list(args.spec)
    if args.specs:
        with open(args.specs) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    specs.append(line)
    return [shlex.split(s) for s in specs]


def run_bench(arm, spec, extra):
    """One `fa-tune bench` process: (status, [median us...], message)."""
    cmd = [arm.bin, "bench", "--variant", spec[0], *spec[1:], *arm.args, "--no-eager", *extra]
    env = dict(os.environ, **arm.env)
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "failed", [], str(e)
    rows = json_rows(p.stdout)
    # The variant's rows (the eager baseline's and --repeat's summary row are left out): one
    # per repeat with --repeat, else one.
    rows = [r for r in rows if r.get("method") == spec[0] and "status" in r]
    if any("repeat" in r for r in rows):
        rows = [r for r in rows if "repeat" in r]
    if not rows:
        err = (p.stderr.strip().splitlines() or ["no output"])[0]
        return "failed", [], f"exit {p.returncode}: {err}"
    status = next((r["status"] for r in rows if r.get("status") != "ok"), "ok")
    us = [1000.0 * r["median_ms"] for r in rows if r.get("median_ms")]
    return status, us, rows[0].get("message", "")


def spec_name(spec):
    return " ".join(spec)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
    )
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--fa-tune", default=os.path.join(here, "..", "build-gpu", "fa-tune"),
                    help="the fa-tune binary of arms without bin= (default build-gpu/fa-tune)")
    ap.add_argument("--arm", action="append", default=[], required=True,
                    help="LABEL[=TOKENS], at least two")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3, help="medians per run (fa-tune bench --repeat)")
    ap.add_argument("--specs", help="a file of specs, one a line")
    ap.add_argument("--out", help="also write the table (markdown) here")
    ap.add_argument("spec", nargs="*", help="VARIANT [fa-tune bench shape arguments], quoted")
    args = ap.parse_args()
    try:
        arms = [Arm(a, args.fa_tune) for a in args.arm]
        specs = read_specs(args)
    except (ValueError, OSError) as e:
        ap.error(str(e))
    if len(arms) < 2:
        ap.error("give at least two --arm")
    if len({a.label for a in arms}) != len(arms):
        ap.error("arm labels must differ")
    if not specs:
        ap.error("no spec: give VARIANT [bench args] or --specs FILE")
    if args.rounds < 1 or args.repeat < 1:
        ap.error("--rounds and --repeat must be at least 1")

    worst = 0
    results = []  # (spec, {label: [us...]}, note)
    for spec in specs:
        note = ""
        for arm in arms:  # compile and check, outside the rounds
            st, _, msg = run_bench(arm, spec, ["--min-reps", "3", "--max-reps", "3", "--json"])
            if st != "ok":
                note = f"{arm.label}: {st} {msg}".strip()
                break
        times = {a.label: [] for a in arms}
        if not note:
            for r in range(args.rounds):
                order = arms if r % 2 == 0 else arms[::-1]
                for arm in order:
                    st, us, msg = run_bench(arm, spec, ["--repeat", str(args.repeat), "--json"])
                    shown = " ".join(f"{t:.2f}" for t in us) or "-"
                    print(f"{spec_name(spec)} | {arm.label} | round {r + 1}: {shown} us ({st})",
                          flush=True)
                    if st != "ok":
                        note = f"{arm.label}: {st} {msg}".strip()
                        break
                    times[arm.label].extend(us)
                if note:
                    break
        if note:
            worst = max(worst, 3 if "mismatch" in note else 1)
            print(f"{spec_name(spec)}: stopped, {note}", flush=True)
        results.append((spec, times, note))

    table = render(arms, results)
    print("\n" + table, end="")
    if args.out:
        try:
            with open(args.out, "w") as f:
                f.write(table)
        except OSError as e:
            print(f"ab_bench.py: cannot write '{args.out}': {e}", file=sys.stderr)
            return max(worst, 1)
    return worst


def render(arms, results):
    base = arms[0].label
    out = [f"| spec | arm | median us | range us | vs {base} | ranges |",
           "|---|---|---|---|---|---|"]
    for spec, times, note in results:
        name = spec_name(spec)
        if note:
            out.append(f"| {name} | - | - | - | - | {note} |")
            continue
        b = times[base]
        for arm in arms:
            t = times[arm.label]
            med = statistics.median(t)
            rng = f"{min(t):.2f}-{max(t):.2f}"
            if arm.label == base:
                out.append(f"| {name} | {arm.label} | {med:.2f} | {rng} | - | - |")
                continue
            change = 100.0 * (med / statistics.median(b) - 1.0)
            apart = max(t) < min(b) or min(t) > max(b)
            out.append(f"| {name} | {arm.label} | {med:.2f} | {rng} | {change:+.2f}% | "
                       f"{'apart' if apart else 'overlap'} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
