#!/usr/bin/env python3
"""Session 32: the varlen eager baseline before (a loop over sequences) and after (padded to the
longest sequence, one batched GEMM per chunk), on varlen shapes of FlashAttention's grid.

For each shape and round (arms alternated): `fa-tune bench --eager-only` with the loop (old)
and padded (new) time the eager baseline (its check against the fp32 reference included), then
`fa-tune bench --variant V --no-eager` times an sm90a varlen kernel on the same problem. Prints a
markdown table: each arm's median eager time over the rounds, new / old, their errors and
memory, and flash's speed-up over each.

    eager_ab.py FA_TUNE ROUNDS [pad|loop]

pad (default): the build loops by default and FA_EAGER_PAD=1 pads (as landed); loop: the
build pads by default and FA_EAGER_LOOP=1 loops (the first version, session 32's call 1).
"""
import os
import json
import statistics
import subprocess
import sys

# (batch, heads, heads_kv, N, causal): batch x N = 16k tokens, hidden 2048 (FlashAttention's
# grid at head dim 128), lengths uniform in [N/2, N]; GQA 8 at 32 query heads.
SHAPES = [(32, 16, 16, 512, 0), (32, 16, 16, 512, 1), (8, 16, 16, 2048, 0), (8, 16, 16, 2048, 1),
          (2, 16, 16, 8192, 1), (32, 32, 4, 512, 1), (8, 32, 4, 2048, 0)]


def variant(causal):
    return "fwd_sm90a_hd128_bf16_%svarlen_m128n128s2pe" % ("causal_" if causal else "")


def bench(binary, shape, extra, loop=False, flag="pad"):
    b, h, hk, n, causal = shape
    cmd = [binary, "bench", "--varlen", "--headdim", "128", "--batch", str(b), "--heads", str(h),
           "--heads-kv", str(hk), "--seqlen-q", str(n), "--json"] + (["--causal"] if causal else [])
    env = dict(os.environ)
    env.pop("FA_EAGER_LOOP", None)
    env.pop("FA_EAGER_PAD", None)
    if flag == "loop" and loop:
        env["FA_EAGER_LOOP"] = "1"
    if flag == "pad" and not loop:
        env["FA_EAGER_PAD"] = "1"
    p = subprocess.run(cmd + extra, capture_output=True, text=True, env=env)
    rows = [json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")]
    if p.returncode != 0 or not rows:
        sys.stderr.write("%s: rc %d\n%s\n" % (" ".join(cmd + extra), p.returncode, p.stderr[-800:]))
        return None
    r = rows[-1]
    if r["status"] != "ok":
        sys.stderr.write("%s: %s %s\n" % (" ".join(cmd + extra), r["status"], r["message"]))
        return None
    return r


def main(argv):
    fa, rounds = argv[1], int(argv[2])
    flag = argv[3] if len(argv) > 3 else "pad"
    print("| shape (hd128 bf16 varlen) | eager old ms | eager new ms | new / old | eager rel L2 "
          "old / new | eager extra MiB old / new | flash ms | speed-up over eager, old | "
          "speed-up over eager, new |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in SHAPES:
        t = {"old": [], "new": [], "flash": []}
        err = {"old": "-", "new": "-"}
        mem = {"old": "-", "new": "-"}
        for r in range(rounds):
            arms = ["old", "new"] if r % 2 == 0 else ["new", "old"]
            for name in arms:
                x = bench(fa, s, ["--eager-only"], loop=name == "old", flag=flag)
                if x:
                    t[name].append(x["median_ms"])
                    err[name] = "%.2g" % x["rel_l2_err"]
                    mem[name] = "%.0f" % (x["extra_bytes"] / 1048576.0)
            x = bench(fa, s, ["--variant", variant(s[4]), "--no-eager"])
            if x:
                t["flash"].append(x["median_ms"])
        med = {k: statistics.median(v) if v else None for k, v in t.items()}

        def f(x, spec=".3f"):
            return "-" if x is None else format(x, spec)

        def ratio(a, b):
            return "-" if a is None or b is None else "%.2fx" % (a / b)

        b, h, hk, n, causal = s
        print("| b%d h%d/%d N%d%s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            b, h, hk, n, " causal" if causal else "", f(med["old"]), f(med["new"]),
            ratio(med["new"], med["old"]), "%s / %s" % (err["old"], err["new"]),
            "%s / %s" % (mem["old"], mem["new"]), f(med["flash"]), ratio(med["old"], med["flash"]),
            ratio(med["new"], med["flash"])))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
