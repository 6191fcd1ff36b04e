#!/usr/bin/env python3
"""Session 35's mutation spot-check (a throw-away tool, kept as the record of what ran).

    git worktree add /tmp/mut HEAD && cmake -S /tmp/mut -B /tmp/mut/build && cmake --build /tmp/mut/build
    python3 mutate.py mutations.json > mutations.log

For each mutation of the JSON list (id, file, old text, new text, a ctest regex, and "golden":
true where the mutated file is copied into the emitted header, so the golden headers are
rewritten first and the lookup tests then run on the mutated header): apply it in /tmp/mut,
rebuild, run the CPU tests the regex names, print KILLED (some test failed, or the build) or
SURVIVED (all passed), then revert."""
import subprocess, sys, json
muts = json.load(open(sys.argv[1]))
for m in muts:
    path = "/tmp/mut/" + m["file"]
    src = open(path).read()
    if src.count(m["old"]) != 1:
        print(f"{m['id']}: SKIP (old text found {src.count(m['old'])} times)", flush=True)
        continue
    open(path, "w").write(src.replace(m["old"], m["new"]))
    try:
        b = subprocess.run("cmake --build build -j2", shell=True, cwd="/tmp/mut",
                           capture_output=True, text=True)
        if b.returncode:
            print(f"{m['id']}: BUILD FAILED (killed by the compiler)", flush=True)
            continue
        if m.get("golden"):
            subprocess.run("FA_UPDATE_GOLDEN=1 ctest -R emit.golden", shell=True,
                           cwd="/tmp/mut/build", capture_output=True)
            subprocess.run("cmake --build build -j2", shell=True, cwd="/tmp/mut",
                           capture_output=True)
        t = subprocess.run(f"ctest -L cpu -R '{m['tests']}' -j2 --timeout 600", shell=True,
                           cwd="/tmp/mut/build", capture_output=True, text=True)
        failed = [l.strip() for l in t.stdout.splitlines() if "***Failed" in l or "Timeout" in l
                  or "Exception" in l]
        ran = [l for l in t.stdout.splitlines() if " Test " in l and "#" in l]
        print(f"{m['id']}: {'KILLED' if failed else 'SURVIVED'} ({len(ran)} tests ran) {failed[:4]}",
              flush=True)
    finally:
        open(path, "w").write(src)
        subprocess.run("git checkout -- tests/emit/golden", shell=True, cwd="/tmp/mut")
subprocess.run("cmake --build build -j2", shell=True, cwd="/tmp/mut", capture_output=True)
