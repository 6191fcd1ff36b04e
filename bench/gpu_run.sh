#!/usr/bin/env bash
# bench/gpu_run.sh -- everything one call on a GPU machine does, in one command: build
# fa-tune, run the GPU tests, tune, measure the peers in the same call, and print a short
# table last. Usage (from the repo root on the GPU machine):
#
#   bash bench/gpu_run.sh [--src DIR] [--out DIR] STAGE...
#
# Stages: build, info, tests[:EXCLUDE], tune:HD[:STRATEGY[:EXTRA]], sweep:HD:STRATEGY:NAME:cold|warm[:EXTRA],
#         recheck:HD:EXH:OTHER, peers:HDS, modes[:NAME[:HDS]], compare, h2h[:ROUNDS[:GAP]], h2hb[:ROUNDS],
#         h2hs[:ROUNDS], h2hp[:ROUNDS], decodep[:FILE[:side[:bshd]]],
#         strategies, pgqa,
#         sanitize:VARIANT[:SQ[:SK]], ncu:VARIANT:N[:causal], pack
#   tune:128:exhaustive       fa-tune --arch sm90 --headdim 128 (bf16, fixed length, gqa 1,
#                             causal and not: FlashAttention's benchmark grid)
#   peers:64,128,256          bench/peers.py on the same grid, then imported into the DB
#   sweep:128:halving:hv:warm the full default problem set (144 problems at hd128) into
#                             hv.db; cold wipes the sweep's own kernel cache first
#   recheck:128:ex:hv         both runs' winners re-timed side by side, 30 rounds (recheck_ex_hv.db),
#                             then bench/compare_strategies.py into strategies_ex_hv.md; a
#                             name that is no run of this call is a database path from the
#                             root without .db (a run carried in from an earlier call)
#   seam:128                  issue 13: --family sm80 alone, exhaustive, and its winners before
#                             the seam re-timed side by side (bench/compare_seam.py -> seam.md)
#   decode[:halving[:FILE]]   issue 16: fa-tune --shapes bench/decode_shapes.txt (decode op), then
#                             bench/peers.py --decode on the same shapes and the device copy,
#                             bench/compare_decode.py -> decode.md; FILE (from the root): other
#                             shapes, into decode_<FILE's stem>.db/.md; bench/decode_shapes_bhsd.txt
#                             is the same set on PyTorch-layout caches, the tensors SDPA reads
#   modes:hv                  issue 15: bench/peers.py --from-db on the varlen and GQA problems
#                             of sweep hv's database (hd128, bf16): SDPA cuDNN and flash on
#                             the same shapes (varlen padded, GQA through enable_gqa), then
#                             bench/compare_modes.py -> modes_hv.md (fa-tune's winner, family,
#                             TFLOP/s beside cuDNN's per problem; which family wins where);
#                             the GQA rows are imported into that database too
#   compare                   bench/compare.py: fa-tune's best vs FA2 and cuDNN per shape,
#                             the winner's kernel family (sm80 or sm90a) and each family's best
#   h2h:3                     after tune and compare: 3 alternating rounds of [fa-tune re-times
#                             the winners interleaved (--race 0 --force); peers.py times SDPA
#                             cuDNN and flash], medians per shape (bench/compare_h2h.py -> h2h.md),
#                             with the SM clock and power of each phase (nvidia-smi, 20 ms);
#                             h2h:3:100 the same with fa-tune timing after 100 us of GPU idle
#                             (--gap-us 100, as peers.py idles before each call) -> h2h_gap100.md
#   h2hb:2                    as h2h, but fa-tune's side is `fa-tune bench --no-eager` of each
#                             shape's winner, one process per shape (one kernel repeated, L2
#                             flushed between, as peers.py times a peer) -> h2hb.md
#   h2hs:2                    as h2hb, but shape by shape: fa-tune bench of the shape's winner and
#                             peers.py --serve on the same shape one right after the other
#                             (bench/h2h_alternate.sh), so both sides share the GPU's state
#                             -> h2hs.md
#   h2hp:2                    fa-tune's winners through a header emitted from the run's
#                             database (--embed-cubin) and bench/fa_header_peer.c, timed inside
#                             peers.py's process beside SDPA cuDNN and flash (--fa-tune-lib),
#                             one process per round, each fa-tune output checked
#                             (bench/compare_inprocess.py -> h2hp.md)
#   decodep[:FILE[:side[:bshd]]] issue 16 in one process: the decode stage's database for FILE
#                             (default bench/decode_shapes.txt; tuned here if absent) emitted
#                             with cubins, fa-tune timed inside peers.py --decode beside SDPA,
#                             each output checked (bench/compare_inprocess.py -> decode*p.md);
#                             decodep::side runs every call on a side stream (-> decodep_side.md);
#                             decodep:::bshd hands both sides FlashAttention-layout tensors
#                             (SDPA as transposed views; -> decodep_bshd.md)
#   pgqa                      PackGQA (issue 15): its 56 checks of sm90a.gpu_modes
#                             (FA_SM90A_GPU_ONLY='pg$'), then bench/sm90a_pack_gqa.sh quick
#                             (PackGQA vs the plain tiles, hd128 32/8 heads, seqlen_q 64/128,
#                             seqlen_k 8k, batch 8) -> pgqa_checks.txt, pgqa_timing.txt
#   sanitize:VARIANT:256      compute-sanitizer racecheck and synccheck (each FA_SANITIZE_TIMEOUT s, 300) on one variant through
#                             fa-tune bench (batch 1, 2 heads, seqlen_q 256, seqlen_k = seqlen_q
#                             or the 4th field): rc 0 and "0 hazards" / "0 errors" expected
#   ncu:VARIANT:8192:causal   ncu --clock-control none on one kernel at N = 8192 (batch 16k/N,
#                             16 heads), the counters issue 14 asks for, into ncu_VARIANT.txt
#   sm90a                     the sm90a family's tests (ctest -R '^sm90a\.': NVRTC compile,
#                             tensor maps, cubin dir, the 72 GPU checks) and its winners' SASS
#                             (HGMMA/UTMALDG/SYNCS, no LDL/STL) with the cubins under OUT/sass
# The tune stages use --arch sm90: on a Hopper GPU both kernel families (sm80 compiled for
# sm_90, sm90a for sm_90a) are tuned side by side and each problem's winner may be either.
# --src DIR builds from DIR (e.g. a `git archive` of HEAD) instead of the working tree.
# Everything lands in --out (default $OUT, else ./out): fa-tune.db, logs, peers.jsonl.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SRC=$ROOT
OUTDIR=${OUT:-$ROOT/out}
while [ $# -gt 0 ]; do
    case $1 in
    --src) SRC=$(cd "$2" && pwd); shift 2 ;;
    --out) OUTDIR=$2; shift 2 ;;
    *) break ;;
    esac
done
mkdir -p "$OUTDIR"
BUILD=$ROOT/build-gpu
FA=$BUILD/fa-tune
DB=$OUTDIR/fa-tune.db
export FA_TUNE_CACHE_DIR=${FA_TUNE_CACHE_DIR:-$ROOT/.fa-cache}
export FA_PROFILE=${FA_PROFILE:-1} # each worker's time by phase, in the run's log
J=$(nproc)
log() { printf '\n=== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
# run_tune NAME TAIL ARGS...: fa-tune ARGS into NAME.txt / NAME.log under the output folder;
# print its exit code, wall time and the last TAIL lines of its summary (its log on failure).
run_tune() {
    local name=$1 n=$2 t0 rc
    shift 2
    t0=$(date +%s.%N)
    "$FA" "$@" >"$OUTDIR/$name.txt" 2>"$OUTDIR/$name.log"
    rc=$?
    echo "rc $rc, wall $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s"
    tail -"$n" "$OUTDIR/$name.txt"
    grep "fa-tune profile" "$OUTDIR/$name.log"
    [ $rc = 0 ] || tail -5 "$OUTDIR/$name.log"
}

# build_peer_lib DB DIR: DIR/fa_dispatch.h emitted from DB with cubins, and
# DIR/libfa_header_peer.so built from it (bench/fa_header_peer.c), for peers.py --fa-tune-lib.
build_peer_lib() {
    local cuda
    cuda=$(dirname "$(dirname "$(command -v nvcc)")")
    if ! { "$FA" emit --arch sm90 --embed-cubin --db "$1" -o "$2/fa_dispatch.h" &&
        gcc -std=c99 -O2 -Wall -shared -fPIC -I"$2" -I"$cuda/include" \
            "$ROOT/bench/fa_header_peer.c" -o "$2/libfa_header_peer.so" \
            -L"$cuda/lib64/stubs" -lcuda; } >"$2/build.log" 2>&1; then
        tail -5 "$2/build.log"
        return 1
    fi
}

# One head-to-head round of the peers: SDPA cuDNN and flash on FlashAttention's grid at head
# dims HDS into STEM.jsonl (log STEM.log).
peers_round() {
    PYTHONUNBUFFERED=1 python3 "$ROOT/bench/peers.py" --headdims "$2" \
        --peers torch_sdpa_flash,torch_sdpa_cudnn -o "$1.jsonl" 2>"$1.log" || tail -3 "$1.log"
}

for stage in "$@"; do
    IFS=: read -r what a b c <<<"$stage"
    case $what in
    build)
        log build
        extra=()
        if [ ! -f /usr/include/sqlite3.h ]; then # the GPU image has libsqlite3.so.0 only
            deb=$(ls "$ROOT"/.deps/libsqlite3-dev_*.deb | head -1)
            mkdir -p /tmp/sqlite-dev && dpkg -x "$deb" /tmp/sqlite-dev
            extra=(-DSQLite3_INCLUDE_DIR=/tmp/sqlite-dev/usr/include
                   -DSQLite3_LIBRARY=/usr/lib/x86_64-linux-gnu/libsqlite3.so.0)
        fi
        if [ ! -f /usr/include/cjson/cJSON.h ]; then # nor cJSON: unpack libcjson1 + -dev
            mkdir -p /tmp/cjson
            for deb in "$ROOT"/.deps/libcjson1_*.deb "$ROOT"/.deps/libcjson-dev_*.deb; do
                dpkg -x "$deb" /tmp/cjson
            done
            extra+=(-DFA_CJSON_INCLUDE_DIR=/tmp/cjson/usr/include
                    -DFA_CJSON_LIBRARY=/tmp/cjson/usr/lib/x86_64-linux-gnu/libcjson.so.1)
        fi
        t0=$(date +%s)
        if ! { cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "${extra[@]}" &&
               cmake --build "$BUILD" -j"$J"; } >"$OUTDIR/build.log" 2>&1; then
            tail -40 "$OUTDIR/build.log"
            exit 1
        fi
        echo "built in $(($(date +%s) - t0)) s"
        ;;
    info)
        log info
        "$FA" info
        nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv
        # the board's power limit: session 12's H200 sat at its SW power cap near 200 W (clock
        # 1770-1845 MHz) where session 11's drew 366 W, and short kernels follow the clock
        nvidia-smi --query-gpu=power.limit,power.default_limit,power.max_limit,clocks_event_reasons.active --format=csv
        ;;
    tests)
        log "GPU tests"
        # tests:REGEX leaves out the GPU tests REGEX matches (ctest -E)
        (cd "$BUILD" && ctest -L gpu ${a:+-E "$a"} --output-on-failure --timeout 600) \
            >"$OUTDIR/gpu_tests.log" 2>&1
        grep -E "tests passed|Passed|Failed|\*\*\*|Skipped" "$OUTDIR/gpu_tests.log" | tail -30
        ;;
    tune)
        hd=${a:-128}
        strategy=${b:-exhaustive}
        log "tune hd$hd $strategy $c"
        n_tune=$((${n_tune:-0} + 1))
        name="tune${n_tune}_hd${hd}_$strategy"
        # shellcheck disable=SC2086
        run_tune "$name" 6 --arch sm90 --headdim "$hd" --dtype bf16 --varlen 0 --gqa 1 \
            --causal all --strategy "$strategy" --db "$DB" $c
        ;;
    sweep) # sweep:HD:STRATEGY:NAME:cold|warm[:EXTRA] -- the full default problem set
        hd=${a:-128}
        IFS=: read -r _ _ strategy name temp extra <<<"$stage"
        cache=$ROOT/.fa-cache-sweep
        [ "$temp" = cold ] && rm -rf "$cache"
        log "sweep hd$hd $strategy $name ($temp cache) $extra"
        # shellcheck disable=SC2086
        FA_TUNE_CACHE_DIR=$cache run_tune "$name" 4 --arch sm90 --headdim "$hd" \
            --strategy "$strategy" --db "$OUTDIR/$name.db" $extra
        ;;
    recheck) # recheck:HD:EXH:OTHER -- both runs' winners re-timed side by side, then compared
        hd=${a:-128}
        log "recheck $b vs $c"
        # A run of this call (OUT/NAME.db), or a database carried in (PATH.db from the root).
        dbx=$OUTDIR/$b.db dby=$OUTDIR/$(basename "$c").db
        [ -f "$dbx" ] || dbx=$ROOT/$b.db
        [ -f "$dby" ] || dby=$ROOT/$c.db
        tag=$(basename "$b")_$(basename "$c")
        vars=$(python3 "$ROOT/bench/compare_strategies.py" "$dbx" "$dby" --winners)
        echo "$(wc -w <<<"$vars") words of --variant arguments"
        # shellcheck disable=SC2086
        FA_TUNE_CACHE_DIR=$ROOT/.fa-cache-sweep "$FA" --arch sm90 --headdim "$hd" --race 0 --family-gate 0 --stage-gate 0 --rounds 30 \
            --finalists 8 --db "$OUTDIR/recheck_$tag.db" $vars >"$OUTDIR/recheck_$tag.txt" \
            2>"$OUTDIR/recheck_$tag.log" || tail -5 "$OUTDIR/recheck_$tag.log"
        python3 "$ROOT/bench/compare_strategies.py" "$dbx" "$dby" \
            --retimed "$OUTDIR/recheck_$tag.db" >"$OUTDIR/strategies_$tag.md"
        tail -1 "$OUTDIR/strategies_$tag.md"
        ;;
    seam) # seam:HD -- issue 13: the sm80 family alone, against its winners before the seam
        hd=${a:-128}
        before=$ROOT/bench/results/2026-12-03_h200_before_seam/tune1_hd${hd}_exhaustive.txt
        log "seam hd$hd: sm80 alone vs $(basename "$before")"
        grid=(--arch sm90 --headdim "$hd" --dtype bf16 --varlen 0 --gqa 1 --causal all)
        run_tune "seam_hd$hd" 3 "${grid[@]}" --family sm80 --strategy exhaustive \
            --db "$OUTDIR/seam.db"
        vars=$(python3 "$ROOT/bench/compare_seam.py" "$before" "$OUTDIR/seam.db" --winners)
        # shellcheck disable=SC2086
        "$FA" "${grid[@]}" --race 0 --rounds 30 --finalists 8 --force \
            --db "$OUTDIR/seam_recheck.db" $vars >"$OUTDIR/seam_recheck.txt" \
            2>"$OUTDIR/seam_recheck.log" || tail -5 "$OUTDIR/seam_recheck.log"
        python3 "$ROOT/bench/compare_seam.py" "$before" "$OUTDIR/seam.db" \
            --retimed "$OUTDIR/seam_recheck.db" >"$OUTDIR/seam.md"
        tail -1 "$OUTDIR/seam.md"
        ;;
    decode) # decode[:STRATEGY[:SHAPES]] -- issue 16 through the product, the peers in the same call
        shapes=${b:-bench/decode_shapes.txt}
        name=decode${b:+_$(basename "$shapes" .txt)}
        log "$name: fa-tune on $shapes (${a:-halving}), peers, table"
        run_tune "$name" 3 --arch sm90 --shapes "$ROOT/$shapes" \
            --strategy "${a:-halving}" --db "$OUTDIR/$name.db"
        PYTHONUNBUFFERED=1 python3 "$ROOT/bench/peers.py" --decode \
            --shapes "$ROOT/$shapes" -o "$OUTDIR/peers_$name.jsonl" \
            2>"$OUTDIR/peers_$name.log" || tail -3 "$OUTDIR/peers_$name.log"
        python3 "$ROOT/bench/compare_decode.py" "$OUTDIR/$name.db" \
            "$OUTDIR/peers_$name.jsonl" | tee "$OUTDIR/$name.md"
        ;;
    modes) # modes[:NAME[:HDS]] -- issue 15: SDPA on the varlen and GQA problems of sweep NAME
        name=${a:-hv}
        db=$OUTDIR/$name.db
        [ -f "$db" ] || db=$ROOT/$name.db # a database carried in (PATH.db from the root)
        tag=$(basename "$name")
        log "modes: SDPA on the varlen and GQA problems of $db"
        PYTHONUNBUFFERED=1 python3 "$ROOT/bench/peers.py" --from-db "$db" --headdims "${b:-128}" \
            -o "$OUTDIR/peers_modes_$tag.jsonl" 2>"$OUTDIR/peers_modes_$tag.log" ||
            tail -3 "$OUTDIR/peers_modes_$tag.log"
        # the GQA rows into the database, for the report's GQA panels; the padded varlen rows
        # stay out (import-peers takes a varlen row for the packed problem, which it is not)
        gqa=$OUTDIR/peers_modes_${tag}_gqa.jsonl
        grep -v '"varlen": 1' "$OUTDIR/peers_modes_$tag.jsonl" >"$gqa"
        "$FA" db import-peers --db "$db" --arch sm90 "$gqa" ||
            echo "import of the GQA rows failed (the table below does not need it)"
        python3 "$ROOT/bench/compare_modes.py" "$db" "$OUTDIR/peers_modes_$tag.jsonl" \
            >"$OUTDIR/modes_$tag.md" || echo "compare_modes.py failed"
        sed -n '/^## Summary/,$p' "$OUTDIR/modes_$tag.md"
        ;;
    peers)
        log "peers ${a:-64,128,256}"
        PYTHONUNBUFFERED=1 python3 "$ROOT/bench/peers.py" --headdims "${a:-64,128,256}" \
            -o "$OUTDIR/peers.jsonl" 2>"$OUTDIR/peers.log"
        echo "peers rc $?: $(wc -l <"$OUTDIR/peers.jsonl") rows"
        "$FA" db import-peers --db "$DB" --arch sm90 "$OUTDIR/peers.jsonl"
        ;;
    pgqa)
        log "PackGQA checks"
        FA_SM90A_GPU_ONLY='pg$' sh "$ROOT/tests/sm90a/test_sm90a_gpu.sh" "$FA" \
            >"$OUTDIR/pgqa_checks.txt" 2>&1
        echo "rc=$?"
        grep -v "^ok " "$OUTDIR/pgqa_checks.txt" | tail -30
        log "PackGQA timing"
        sh "$ROOT/bench/sm90a_pack_gqa.sh" "$FA" quick >"$OUTDIR/pgqa_timing.txt" 2>&1
        echo "rc=$?"
        tail -5 "$OUTDIR/pgqa_timing.txt"
        ;;
    sm90a)
        log "sm90a family tests"
        (cd "$BUILD" && ctest -R '^sm90a\.' --output-on-failure --timeout 1800) \
            >"$OUTDIR/sm90a_tests.log" 2>&1
        grep -E "tests passed|Passed|Failed|\*\*\*|Skipped|sm90a family:" \
            "$OUTDIR/sm90a_tests.log" | tail -30
        log "sm90a SASS"
        sh "$ROOT/tests/sm90a/test_sm90a_sass.sh" "$FA" "$OUTDIR/sass" 2>&1 | tee "$OUTDIR/sass.txt"
        ;;
    ncu) # ncu:VARIANT:N[:causal] -- one kernel's hardware counters (issue 14's profile)
        n=${b:-8192}
        log "ncu $a at N=$n"
        # --clock-control none: the clocks the timings ran at; the kernel runs in fa-tune's
        # worker process, hence --target-processes all; the 4th launch skips the check's runs
        ncu --clock-control none --target-processes all -k regex:fa_fwd --launch-skip 3 \
            --launch-count 1 --section SpeedOfLight --section ComputeWorkloadAnalysis \
            --section MemoryWorkloadAnalysis --section Occupancy --section WarpStateStats \
            --section SchedulerStats --section InstructionStats --section LaunchStats \
            "$FA" bench --variant "$a" --batch $((16384 / n)) --seqlen-q "$n" --heads 16 \
            ${c:+--causal} --no-eager --min-reps 3 --max-reps 3 --max-seconds 1 \
            >"$OUTDIR/ncu_$a.txt" 2>&1
        echo "rc=$?"
        grep -E "Duration|SM Frequency|Compute \(SM\) Throughput|Memory Throughput|Registers|Block Limit|Theoretical Occupancy|Achieved Occupancy|Issue Slots Busy|No Eligible|Stall" \
            "$OUTDIR/ncu_$a.txt" | head -40
        ;;
    sanitize) # sanitize:VARIANT[:SQ[:SK]] -- racecheck and synccheck on one small launch
        sq=${b:-256}
        sk=${c:-$sq}
        log "sanitize $a, seqlen $sq/$sk"
        # one check launch and one timed repetition of a small problem (batch 1, 2 heads): the
        # mbarrier pipeline, the named barriers and the shared-memory reuse, tile after tile
        for tool in racecheck synccheck; do
            timeout "${FA_SANITIZE_TIMEOUT:-300}" compute-sanitizer --tool "$tool" --error-exitcode 99 "$FA" bench \
                --variant "$a" --batch 1 --heads 2 --seqlen-q "$sq" --seqlen-k "$sk" --no-eager \
                --min-reps 1 --max-reps 1 --max-seconds 0.1 --no-flush \
                >"$OUTDIR/sanitize_${tool}_$a.txt" 2>&1
            echo "$tool: rc=$? $(grep -E 'SUMMARY' "$OUTDIR/sanitize_${tool}_$a.txt" | tr '\n' ' ')"
        done
        ;;
    compare)
        log compare
        python3 "$ROOT/bench/compare.py" "$DB" | tee "$OUTDIR/compare.md"
        ;;
    h2h) # h2h[:ROUNDS[:GAP]] -- the tune stages' winners and the peers re-timed in alternating rounds
        rounds=${a:-3}
        tag=h2h${b:+_gap$b} # GAP: fa-tune times with --gap-us GAP, into h2h_gapGAP*
        log "head to head: $rounds rounds of fa-tune's winners${b:+ (--gap-us $b)}, then the peers"
        dbs=() pjs=() smi=
        clk=$OUTDIR/${tag}_clocks.csv ph=$OUTDIR/${tag}_phases.txt
        : >"$clk" && : >"$ph"
        if command -v nvidia-smi >/dev/null; then # SM clock, power, temperature every 20 ms
            nvidia-smi --query-gpu=timestamp,clocks.sm,power.draw,temperature.gpu -i 0 \
                --format=csv,noheader,nounits -lms 20 >"$clk" 2>/dev/null &
            smi=$!
        fi
        winners=$(python3 "$ROOT/bench/compare_h2h.py" "$DB" --winners) # "HD --variant ..." lines
        hds=$(cut -d' ' -f1 <<<"$winners" | paste -sd,)
        for r in $(seq "$rounds"); do
            echo "$(date -u +%s.%N) fa-tune $r" >>"$ph"
            while read -r hd vars; do
                # the tune stages' problems (FlashAttention's grid), each winner re-timed
                # shellcheck disable=SC2086 # vars is --variant NAME ...
                "$FA" --arch sm90 --headdim "$hd" --dtype bf16 --varlen 0 --gqa 1 --race 0 --family-gate 0 --stage-gate 0 \
                    --finalists 8 --rounds 5 --force ${b:+--gap-us "$b"} --db "$OUTDIR/${tag}_$r.db" $vars \
                    >>"$OUTDIR/${tag}_$r.txt" 2>>"$OUTDIR/${tag}_$r.log" || tail -3 "$OUTDIR/${tag}_$r.log"
            done <<<"$winners"
            echo "$(date -u +%s.%N) peers $r" >>"$ph"
            peers_round "$OUTDIR/${tag}_peers_$r" "$hds"
            dbs+=("$OUTDIR/${tag}_$r.db") pjs+=("$OUTDIR/${tag}_peers_$r.jsonl")
            echo "round $r done ($(date -u +%H:%M:%S))"
        done
        echo "$(date -u +%s.%N) end" >>"$ph"
        [ -n "$smi" ] && kill "$smi"
        python3 "$ROOT/bench/compare_h2h.py" "$DB" --rounds "${dbs[@]}" --peers "${pjs[@]}" \
            --clocks "$clk" --phases "$ph" | tee "$OUTDIR/$tag.md"
        ;;
    h2hb) # h2hb[:ROUNDS] -- as h2h, but fa-tune's side is `fa-tune bench` of each shape's winner
        rounds=${a:-2}
        log "head to head (bench): $rounds rounds of fa-tune bench per shape, then the peers"
        shapes=$(python3 "$ROOT/bench/compare_h2h.py" "$DB" --shapes) # "HD CAUSAL N VARIANT"
        hds=$(cut -d' ' -f1 <<<"$shapes" | sort -un | paste -sd,)
        dbs=() pjs=()
        for r in $(seq "$rounds"); do
            : >"$OUTDIR/h2hb_$r.txt"
            while read -r hd causal n v; do
                bash "$ROOT/bench/h2h_bench_shape.sh" "$FA" "$hd" "$causal" "$n" "$v" \
                    "$OUTDIR/h2hb_$r.txt" "$OUTDIR/h2hb_$r.log"
            done <<<"$shapes"
            peers_round "$OUTDIR/h2hb_peers_$r" "$hds"
            dbs+=("$OUTDIR/h2hb_$r.txt") pjs+=("$OUTDIR/h2hb_peers_$r.jsonl")
            echo "round $r done ($(date -u +%H:%M:%S))"
        done
        python3 "$ROOT/bench/compare_h2h.py" "$DB" --rounds "${dbs[@]}" --peers "${pjs[@]}" |
            tee "$OUTDIR/h2hb.md"
        ;;
    h2hp) # h2hp[:ROUNDS] -- fa-tune inside the peers' process, through an emitted header
        rounds=${a:-2}
        log "head to head (in process): $rounds rounds of peers.py with fa-tune as a peer"
        hp=$OUTDIR/h2hp
        mkdir -p "$hp"
        hds=$(python3 "$ROOT/bench/compare_h2h.py" "$DB" --shapes | cut -d' ' -f1 | sort -un |
            paste -sd,)
        build_peer_lib "$DB" "$hp" || continue
        pjs=()
        for r in $(seq "$rounds"); do
            PYTHONUNBUFFERED=1 python3 "$ROOT/bench/peers.py" --headdims "$hds" \
                --peers torch_sdpa_cudnn,torch_sdpa_flash,fa_tune \
                --fa-tune-lib "$hp/libfa_header_peer.so" -o "$OUTDIR/h2hp_$r.jsonl" \
                2>"$OUTDIR/h2hp_$r.log" || tail -3 "$OUTDIR/h2hp_$r.log"
            pjs+=("$OUTDIR/h2hp_$r.jsonl")
            echo "round $r done ($(date -u +%H:%M:%S))"
        done
        python3 "$ROOT/bench/compare_inprocess.py" "${pjs[@]}" | tee "$OUTDIR/h2hp.md"
        ;;
    decodep) # decodep[:SHAPES[:side[:bshd]]] -- fa-tune's decode winners inside the peers' process
        shapes=${a:-bench/decode_shapes.txt}
        name=decode${a:+_$(basename "$shapes" .txt)}
        if [ ! -f "$OUTDIR/$name.db" ]; then # the decode stage's database, else tuned here
            log "$name: fa-tune on $shapes (halving), for decodep"
            run_tune "$name" 3 --arch sm90 --shapes "$ROOT/$shapes" --strategy halving \
                --db "$OUTDIR/$name.db"
        fi
        stream=${b:-default} # decodep:FILE:side -- every call on a side stream (peers.py --stream)
        layout=${c:-bhsd}    # decodep:FILE::bshd -- tensors in FlashAttention's layout (--kv-layout)
        out=${name}p${b:+_$b}${c:+_$c}
        log "decode head to head (in process, $stream stream, $layout tensors): peers.py --decode with fa-tune as a peer"
        hp=$OUTDIR/${name}p
        mkdir -p "$hp"
        build_peer_lib "$OUTDIR/$name.db" "$hp" || continue
        PYTHONUNBUFFERED=1 python3 "$ROOT/bench/peers.py" --decode --shapes "$ROOT/$shapes" \
            --peers torch_sdpa_cudnn,torch_sdpa_flash --fa-tune-lib "$hp/libfa_header_peer.so" \
            --stream "$stream" --kv-layout "$layout" -o "$OUTDIR/$out.jsonl" 2>"$OUTDIR/$out.log" ||
            tail -3 "$OUTDIR/$out.log"
        python3 "$ROOT/bench/compare_inprocess.py" "$OUTDIR/$out.jsonl" | tee "$OUTDIR/$out.md"
        ;;
    h2hs) # h2hs[:ROUNDS] -- as h2hb, but fa-tune and the peers alternate shape by shape
        log "head to head (shape by shape): ${a:-2} rounds"
        bash "$ROOT/bench/h2h_alternate.sh" "$FA" "$DB" "${a:-2}" "$OUTDIR"
        ;;
    strategies) # halving (tuned into halving.db) against exhaustive (the main database)
        log "strategies"
        python3 "$ROOT/bench/compare_strategies.py" "$DB" "$OUTDIR/${a:-halving}.db" |
            tee "$OUTDIR/strategies.md" | tail -3
        ;;
    pack) # fold the WAL into the database and the logs into one archive (few files come back)
        for db in "$OUTDIR"/*.db; do
            [ -f "$db" ] || continue
            python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('pragma wal_checkpoint(TRUNCATE)')" "$db"
            rm -f "$db-wal" "$db-shm"
            # a file over 16 MB does not come back from the device: compress it (~5x)
            [ "$(stat -c %s "$db")" -gt 15000000 ] && gzip -9 "$db"
        done
        (cd "$OUTDIR" && tar czf logs.tgz --remove-files ./*.log ./*.txt ./*.md 2>/dev/null)
        if [ "$(find "$OUTDIR" -maxdepth 1 -type f | wc -l)" -gt 7 ]; then # 8 files come back
            (cd "$OUTDIR" && tar czf data.tgz --remove-files ./*.db ./*.jsonl 2>/dev/null)
            (cd "$OUTDIR" && tar cf dbgz.tar --remove-files ./*.db.gz 2>/dev/null)
        fi
        ls "$OUTDIR"
        ;;
    *)
        echo "unknown stage '$stage'" >&2
        exit 2
        ;;
    esac
done
