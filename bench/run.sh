#!/bin/sh
# run.sh -- `make bench`: every benchmark of the recurrent tri-factor path
# with its peers in the same run, ratios, and each target of issue 7 marked
# met or with its gap.  See bench/README.md.
#
#   make bench [BENCH_SIZE=tiny|default|full]
#
# Environment: BENCH_SIZE (default "default"), BENCH_OUT (results directory,
# default ./bench-results), PYTHON (default /usr/bin/python3),
# PLX_BENCH_REFERENCE (a checkout of the authors' code: timed when set),
# BENCH_SKIP (space-separated sections to skip: stream train numpy brian2
# reference callgrind scaling seeds batch linear deepnet).  make sets
# BENCH_SRCDIR (bench/ sources) and BENCH_BINDIR (built plx_bench,
# plx_bench_nets and stream).
#
# Nothing here depends on timing: a benchmark fails only when a program
# fails.  Peers that are not installed are reported as skipped.
set -u

SIZE=${BENCH_SIZE:-default}
[ -n "$SIZE" ] || SIZE=default
SRC=${BENCH_SRCDIR:-$(cd "$(dirname "$0")" && pwd)}
BIN=${BENCH_BINDIR:-$(pwd)/bench}
OUT=${BENCH_OUT:-$(pwd)/bench-results}
PY=${PYTHON:-/usr/bin/python3}
SKIP=" ${BENCH_SKIP:-} "
PLX="$BIN/plx_bench"
NETS="$BIN/plx_bench_nets"
STREAM="$BIN/stream"
CFGS="$(cd "$SRC/.." && pwd)/configs"
MLP_CFG="$CFGS/benjamin2022_orientation_skewed.cfg"
CONV_CFG="$CFGS/benjamin2022_natural_images.cfg"
EST="$SRC/configs/estimation.cfg"
FRZ="$SRC/configs/frozen.cfg"

# single-core figures: no BLAS threads anywhere (plastix and numpy alike)
OPENBLAS_NUM_THREADS=1
export OPENBLAS_NUM_THREADS
# a sanitizer build (CI) runs the tiny size too: the project's leak
# suppressions (fontconfig, used by the scaling figure's text), no valgrind
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$SRC/../tests/lsan.supp:print_suppressions=0}
export LSAN_OPTIONS
SANITIZED=0
if ldd "$BIN/plx_bench" 2>/dev/null | grep -q 'libasan'; then SANITIZED=1; fi

case "$SIZE" in
  tiny)     # CI: proves every benchmark runs, in seconds; no targets judged
    D_CMP=2; WARM=1; D_FULL=2; REP=1; BR_TARGETS=numpy; REF_D=41
    CG_D=1; SIZES=10,40,100; SC_S=0.02; SC_REP=1; SEED_D=2; SEED_J=2
    BATCHES=1,4; BATCH_S=200; ST_MB=4; ST_L3MB=1; ST_R=2; RUN260=0
    LIN_D=256; LIN_N=2048; LIN_B1=512; LIN_B2=512; LIN_EPOCH=0; NET_REP=1; LIN_DT=float32
    MLP_B=16; CONV_B=4; CONV_K=1; CG_CONV_B=1; CG_MLP_B=2 ;;
  default)  # a few minutes
    D_CMP=200; WARM=40; D_FULL=1000; REP=3; BR_TARGETS=numpy,cython; REF_D=200
    CG_D=50; SIZES=10,20,40,100,200,500,1000,2000; SC_S=1; SC_REP=2
    SEED_D=500; SEED_J=8; BATCHES=1,2,4,8,16,32,64; BATCH_S=20000
    ST_MB=64; ST_L3MB=2; ST_R=10; RUN260=0
    LIN_D=1024; LIN_N=131072; LIN_B1=16384; LIN_B2=4096; LIN_EPOCH=0; NET_REP=3
    LIN_DT="float32 float64"
    MLP_B=512,2048; CONV_B=64; CONV_K=2; CG_CONV_B=4; CG_MLP_B=16 ;;
  full)     # the whole paper run and full-length peer trials (~10 minutes,
            # the reference trial alone ~1.3 GB)
    D_CMP=1000; WARM=40; D_FULL=1000; REP=3; BR_TARGETS=numpy,cython; REF_D=1000
    CG_D=50; SIZES=10,20,40,70,100,200,350,500,700,1000,1400,2000; SC_S=3; SC_REP=3
    SEED_D=1000; SEED_J=8; BATCHES=1,2,4,8,16,32,64,128; BATCH_S=50000
    ST_MB=128; ST_L3MB=2; ST_R=20; RUN260=1
    LIN_D=1024; LIN_N=131072; LIN_B1=16384; LIN_B2=4096; LIN_EPOCH=1; NET_REP=3
    LIN_DT="float32 float64"
    MLP_B=512,2048; CONV_B=64; CONV_K=5; CG_CONV_B=4; CG_MLP_B=16 ;;
  *) echo "bench: BENCH_SIZE must be tiny, default or full (got '$SIZE')" >&2; exit 2 ;;
esac

for p in "$PLX" "$NETS" "$STREAM"; do
  [ -x "$p" ] || { echo "bench: $p not built (run 'make bench')" >&2; exit 2; }
done
mkdir -p "$OUT" || exit 1
RES="$OUT/results.txt"
LOG="$OUT/log.txt"
SUM="$OUT/summary.md"
: > "$RES"
: > "$LOG"
status=0

# ---------------------------------------------------------------- helpers
say() { echo "$@" | tee -a "$LOG"; }
skipped() { case "$SKIP" in *" $1 "*) return 0 ;; esac; return 1; }
# field KEY of a RESULT line
val() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
# arithmetic (awk): calc FORMAT EXPR; "-" when an operand is missing
calc() { awk "BEGIN { printf \"$1\", ($2) }" 2>/dev/null || echo "-"; }
have() { [ -n "$1" ] && [ "$1" != "-" ]; }
# run a program, keep its output in the log and its RESULT lines
run() {
  label=$1; shift
  say "\$ $*"
  out=$("$@" 2>&1); rc=$?
  echo "$out" | tee -a "$LOG" | grep -v '^RESULT' | sed 's/^/  /'
  echo "$out" | grep '^RESULT' | sed "s/^RESULT /RESULT $label /" | tee -a "$RES" | sed 's/^/  /'
  if [ $rc -ne 0 ]; then
    say "bench: '$label' failed (exit $rc)"
    status=1
  fi
  return $rc
}
get() { grep "^RESULT $1 " "$RES" | tail -n 1; }
load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }

# ---------------------------------------------------------------- machine
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
CORES=$(nproc 2>/dev/null || echo "?")
FLAGS=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
ISA=baseline
case "$FLAGS" in *avx2*fma*|*fma*avx2*) ISA="AVX2+FMA" ;; esac
BLAS_PLX=$(ldd "$PLX" 2>/dev/null | awk '/blas/ { print $3 }' | while read -r f; do
  printf '%s ' "$(readlink -f "$f")"; done)
L3=$(lscpu 2>/dev/null | sed -n 's/^L3 cache:[[:space:]]*//p')
say "== plastix benchmarks (issue 7), size $SIZE, $(date -u '+%Y-%m-%d %H:%M UTC')"
say "machine: $CPU, $CORES cores, L3 ${L3:-?}, kernels $ISA, load before: $(load)"
say "plastix links: ${BLAS_PLX:-?}; OPENBLAS_NUM_THREADS=1"
say "compiler: $(${CC:-cc} --version 2>/dev/null | head -n 1)"
say "results: $OUT"
LOAD0=$(load)

# ---------------------------------------------------------------- stream
if ! skipped stream; then
  say ""
  say "== memory bandwidth (STREAM-like triad, one core)"
  run stream_dram "$STREAM" --mb "$ST_MB" --reps "$ST_R"
  run stream_l3 "$STREAM" --mb "$ST_L3MB" --reps "$((ST_R * 5))"
fi
BW=$(val "$(get stream_dram)" gbs)
BW_L3=$(val "$(get stream_l3)" gbs)

# ---------------------------------------------------------------- plastix
if ! skipped train; then
  say ""
  say "== plastix through libplastix (plx_train), N = 40, one core"
  run plx_cmp "$PLX" train "$EST" --label cmp --repeat "$REP" \
    --set "train.duration=$D_CMP" --set "train.warmup=$WARM"
  run plx_full "$PLX" train "$EST" --label full --repeat "$REP" \
    --set "train.duration=$D_FULL" --set "train.warmup=$WARM"
  run plx_frozen "$PLX" train "$FRZ" --label frozen --repeat "$REP" \
    --set "train.duration=$D_CMP" --set "train.warmup=$WARM"
  if [ "$RUN260" = 1 ]; then
    run plx_260 "$PLX" train "$EST" --label paper260 --set train.trials=260 \
      --set train.duration=1000 --set train.warmup=40
  fi
fi

# ---------------------------------------------------------------- peers
PY_OK=0
if [ -x "$PY" ] && "$PY" -c 'import numpy' 2>/dev/null; then PY_OK=1; fi
if ! skipped numpy; then
  say ""
  say "== peer: vectorised numpy tri-factor training (bench/numpy_trifactor.py)"
  if [ $PY_OK = 1 ]; then
    run numpy "$PY" "$SRC/numpy_trifactor.py" --duration "$D_CMP" --warmup "$WARM" \
      --repeat 1
  else
    say "skipped: $PY with numpy not found (apt-get install python3-numpy)"
  fi
fi
if ! skipped brian2; then
  say ""
  say "== peer: Brian2, same rate equations without plasticity (bench/brian2_rate.py)"
  if [ $PY_OK = 1 ] && "$PY" -c 'import brian2' 2>/dev/null; then
    targets=$BR_TARGETS
    if ! command -v cython3 >/dev/null 2>&1 && ! "$PY" -c 'import Cython' 2>/dev/null; then
      targets=numpy
    fi
    run brian2 "$PY" "$SRC/brian2_rate.py" --duration "$D_CMP" --target "$targets"
  else
    say "skipped: brian2 not importable by $PY (apt-get install python3-brian)"
  fi
fi
if ! skipped reference; then
  say ""
  say "== peer: the authors' reference code (bench/reference_peer.py)"
  if [ -n "${PLX_BENCH_REFERENCE:-}" ] && [ $PY_OK = 1 ]; then
    run reference "$PY" "$SRC/reference_peer.py" --duration "$REF_D"
  else
    say "skipped: PLX_BENCH_REFERENCE not set (the spec's figure is used: 19 s per 1000-time-unit trial)"
  fi
fi

# ---------------------------------------------------------------- callgrind
if ! skipped callgrind; then
  say ""
  say "== instruction counts (valgrind --tool=callgrind, inside plx_train only)"
  if [ $SANITIZED = 1 ]; then
    say "skipped: sanitizer build (valgrind cannot run AddressSanitizer binaries)"
  elif command -v valgrind >/dev/null 2>&1; then
    for k in plastic frozen; do
      cfg=$EST; [ $k = frozen ] && cfg=$FRZ
      cg="$OUT/callgrind.$k.out"
      say "\$ valgrind --tool=callgrind --toggle-collect=plx_train $PLX train $cfg --set train.duration=$CG_D --set train.warmup=0"
      out=$(valgrind --tool=callgrind --toggle-collect=plx_train --callgrind-out-file="$cg" \
        "$PLX" train "$cfg" --set "train.duration=$CG_D" --set train.warmup=0 2>&1)
      rc=$?
      echo "$out" >> "$LOG"
      ir=$(sed -n 's/^\(summary\|totals\): *//p' "$cg" 2>/dev/null | head -n 1)
      steps=$(val "$(echo "$out" | grep '^RESULT')" steps)
      if [ $rc -ne 0 ] || ! have "$ir" || ! have "$steps"; then
        say "bench: callgrind ($k) failed"; status=1; continue
      fi
      line="RESULT callgrind_$k n=40 duration=$CG_D steps=$steps ir=$ir ir_per_step=$(calc %.0f "$ir / $steps")"
      echo "$line" >> "$RES"
      say "  $line"
      if command -v callgrind_annotate >/dev/null 2>&1; then
        callgrind_annotate "$cg" 2>/dev/null | sed -n '/file:function/,/^$/p' | sed -n '3,10p' |
          sed 's/^/    /' | tee -a "$LOG" > "$OUT/callgrind.$k.top.txt"
        cat "$OUT/callgrind.$k.top.txt"
      fi
    done
    # the deep nets' training steps: plastix's own instructions (im2col,
    # pooling, LRN, ReLU, softmax, update) apart from OpenBLAS's GEMMs
    say ""
    say "== instruction counts of one deep-net training step, by library (callgrind)"
    for net in conv mlp; do
      cfg=$CONV_CFG; nb=$CG_CONV_B
      [ $net = mlp ] && cfg=$MLP_CFG && nb=$CG_MLP_B
      cg="$OUT/callgrind.$net.out"
      tog="--toggle-collect=plx_deepnet_forward --toggle-collect=plx_deepnet_softmax_ce"
      tog="$tog --toggle-collect=plx_deepnet_backward --toggle-collect=plx_deepnet_momentum_step"
      tog="$tog --toggle-collect=plx_deepnet_sgd"
      say "\$ valgrind --tool=callgrind $tog $NETS deepnet $cfg --batch $nb --steps 1 --repeat 1"
      # shellcheck disable=SC2086
      out=$(valgrind --tool=callgrind $tog --callgrind-out-file="$cg" \
        "$NETS" deepnet "$cfg" --label "$net" --batch "$nb" --steps 1 --repeat 1 2>&1)
      rc=$?
      echo "$out" >> "$LOG"
      ir=$(sed -n 's/^\(summary\|totals\): *//p' "$cg" 2>/dev/null | head -n 1)
      if [ $rc -ne 0 ] || ! have "$ir" || ! command -v callgrind_annotate >/dev/null 2>&1; then
        say "bench: callgrind ($net) failed"; status=1; continue
      fi
      # self cost per object; 2 steps ran (one warm-up, one timed)
      callgrind_annotate --inclusive=no "$cg" > "$cg.self" 2>/dev/null
      own=$(awk '/\[.*libplastix/ { gsub(",", "", $1); s += $1 } END { printf "%.0f", s }' "$cg.self")
      blas=$(awk '/\[.*blas/ { gsub(",", "", $1); s += $1 } END { printf "%.0f", s }' "$cg.self")
      line="RESULT callgrind_$net batch=$nb ir_per_step=$(calc %.0f "$ir / 2")"
      line="$line plastix_per_step=$(calc %.0f "$own / 2") blas_per_step=$(calc %.0f "$blas / 2")"
      echo "$line" >> "$RES"
      say "  $line"
      sed -n '/file:function/,/^$/p' "$cg.self" |
        grep libplastix | head -n 6 | sed 's/^/    /' | tee -a "$LOG" > "$OUT/callgrind.$net.top.txt"
      cat "$OUT/callgrind.$net.top.txt"
    done
  else
    say "skipped: valgrind not installed (apt-get install valgrind)"
  fi
fi

# ---------------------------------------------------------------- scaling
if ! skipped scaling; then
  say ""
  say "== scaling: cost per Euler step against N (warm-up 0, one core)"
  run scaling "$PLX" scaling "$EST" "$FRZ" --sizes "$SIZES" --seconds "$SC_S" \
    --repeat "$SC_REP" --bandwidth "${BW:-0}" --bandwidth-l3 "${BW_L3:-0}" --csv "$OUT/scaling.csv" --png "$OUT/scaling"
fi

# ---------------------------------------------------------------- seeds
if ! skipped seeds; then
  say ""
  say "== many seeds: independent trainings on 1 and 2 threads"
  run seeds "$PLX" seeds "$EST" --threads 1,2 --jobs "$SEED_J" \
    --set "train.duration=$SEED_D" --set "train.warmup=$WARM"
fi
if ! skipped batch; then
  say ""
  say "== batched trials: N x B state, one BLAS-3 call per step (frozen, N = 40)"
  run batch "$PLX" batch "$FRZ" --batches "$BATCHES" --steps "$BATCH_S"
fi

# ---------------------------------------------------------------- linear / deep nets
# plastix (bench/plx_bench_nets, through libplastix) and its PyTorch CPU peer
# (bench/torch_peers.py) one right after the other for every case, so both
# see the same load.
TORCH_OK=0
# (find_spec: importing torch itself takes seconds; torch_peers.py says
# "skipped" and exits 3 if the import then fails)
if [ -x "$PY" ] && "$PY" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("torch") is None)' \
  2>/dev/null; then TORCH_OK=1; fi
torch_run() { # torch_run LABEL ARGS...: the peer, or a clear "skipped" line
  if [ $TORCH_OK = 1 ]; then
    run "$@"
  else
    say "skipped: PyTorch peer ($1): torch not importable by $PY (apt-get install python3-torch)"
  fi
}
if ! skipped linear; then
  say ""
  say "== linear network ($LIN_D x $LIN_D, reconstruct MSE): OpenBLAS GEMM peak, full-batch step,"
  say "   minibatch SGD epoch ($LIN_N patches); plastix (double) against PyTorch CPU"
  run gemm "$NETS" gemm --d "$LIN_D" --repeat "$NET_REP"
  torch_run torch_gemm "$PY" "$SRC/torch_peers.py" gemm --d "$LIN_D" --repeat "$NET_REP"
  for L in 1 2; do
    run "lin_full$L" "$NETS" linear_full --d "$LIN_D" --layers $L --repeat "$NET_REP"
    for dt in $LIN_DT; do
      torch_run "torch_lin_full$L" "$PY" "$SRC/torch_peers.py" linear_full --d "$LIN_D" \
        --layers $L --dtype $dt --repeat "$NET_REP"
    done
  done
  for L in 1 2; do
    B=$LIN_B1; [ $L = 2 ] && B=$LIN_B2
    K=1; [ "$LIN_EPOCH" = 1 ] && K=$(( (LIN_N + B - 1) / B ))
    run "lin_epoch$L" "$NETS" linear_epoch --d "$LIN_D" --layers $L --patches "$LIN_N" \
      --batch "$B" --steps "$K" --repeat "$NET_REP"
    torch_run "torch_lin_epoch$L" "$PY" "$SRC/torch_peers.py" linear_epoch --d "$LIN_D" \
      --layers $L --patches "$LIN_N" --batch "$B" --steps "$K" --repeat "$NET_REP"
  done
fi
if ! skipped deepnet; then
  say ""
  say "== deep nets, one SGD training step: 4096-1024-256-60 ReLU MLP ($MLP_CFG)"
  say "   and the convolutional network ($CONV_CFG); single precision both sides"
  for B in $(echo "$MLP_B" | tr ',' ' '); do
    run "mlp$B" "$NETS" deepnet "$MLP_CFG" --label mlp --batch "$B" --repeat "$NET_REP"
    torch_run "torch_mlp$B" "$PY" "$SRC/torch_peers.py" deepnet "$MLP_CFG" --label mlp \
      --batch "$B" --repeat "$NET_REP"
  done
  run "conv$CONV_B" "$NETS" deepnet "$CONV_CFG" --label conv --batch "$CONV_B" \
    --steps "$CONV_K" --repeat "$NET_REP"
  torch_run "torch_conv$CONV_B" "$PY" "$SRC/torch_peers.py" deepnet "$CONV_CFG" --label conv \
    --batch "$CONV_B" --steps "$CONV_K" --repeat "$NET_REP"
fi

# ---------------------------------------------------------------- summary
BLAS_USE=$(sed -n 's/^.*# plx_bench\(_nets\)\{0,1\}: blas in use: //p' "$LOG" | head -n 1)
P=$(get "plx_cmp train"); PF=$(get "plx_full train"); PZ=$(get "plx_frozen train")
NP=$(get "numpy numpy_trifactor"); REF=$(get "reference reference")
P260=$(get "plx_260 train")
us_p=$(val "$P" us_step_cpu); us_full=$(val "$PF" us_step_cpu); us_z=$(val "$PZ" us_step_cpu)
trial_s=$(calc %.4f "$(val "$PF" cpu_s) * 1000 / $D_FULL")
rss=$(val "$PF" maxrss_mb)
us_np=$(val "$NP" us_step_cpu)
us_ref=$(val "$REF" us_step_cpu)
# Brian2: the faster of the targets that ran
us_br=""; br_t=""
for t in cython numpy; do
  l=$(grep "^RESULT brian2 brian2 target=$t " "$RES" | tail -n 1)
  u=$(val "$l" us_step_cpu)
  if have "$u" && { ! have "$us_br" || [ "$(calc %d "$u < $us_br")" = 1 ]; }; then us_br=$u; br_t=$t; fi
done
if have "$P260"; then
  run260=$(val "$P260" cpu_s); run260_how="measured"
else
  run260=$(calc %.1f "260 * $trial_s"); run260_how="260 x one trial"
fi
worst() { # largest ratio over N >= 500 in the scaling CSV, column $1
  [ -f "$OUT/scaling.csv" ] || { echo "-"; return; }
  awk -F, -v c="$1" 'NR > 1 && $1 >= 500 { if ($c > m) m = $c; n++ }
    END { if (n) printf "%.2f", m; else print "-" }' "$OUT/scaling.csv"
}
bw_p=$(worst 8); bw_z=$(worst 9)
S1=$(grep '^RESULT seeds seeds threads=1 ' "$RES" | tail -n 1)
S2=$(grep '^RESULT seeds seeds threads=2 ' "$RES" | tail -n 1)
sp=$(val "$S2" speedup_vs_first); spc=$(val "$S2" cpu_projected_speedup)

# linear and deep nets: field KEY of label LABEL's RESULT line [with prec=PREC]
nval() { # nval LABEL KEY [PREC]
  if [ -n "${3:-}" ]; then l=$(grep "^RESULT $1 .* prec=$3 " "$RES" | tail -n 1)
  else l=$(grep "^RESULT $1 " "$RES" | tail -n 1); fi
  val "$l" "$2"
}
ratio() { have "$1" && have "$2" && calc %.2f "$1 / $2" || echo "-"; }
rx() { r=$(ratio "$1" "$2"); have "$r" && echo "${r}x" || echo "-"; }
g_d=$(nval gemm gflops double); g_s=$(nval gemm gflops single)
tg_d=$(nval torch_gemm gflops double); tg_s=$(nval torch_gemm gflops single)
judge() { # judge VALUE OP LIMIT -> "met" | "gap: ..."
  if [ "$SIZE" = tiny ]; then echo "(tiny: not judged)"; return; fi
  have "$1" || { echo "not measured"; return; }
  case "$2" in
    le) if [ "$(calc %d "$1 <= $3")" = 1 ]; then echo "met"; else echo "gap: $(calc %.2f "$1 / $3")x over"; fi ;;
    ge) if [ "$(calc %d "$1 >= $3")" = 1 ]; then echo "met"; else echo "gap: $(calc %.2f "$3 / $1")x short"; fi ;;
  esac
}
r_np=$(have "$us_np" && have "$us_p" && calc %.1f "$us_np / $us_p" || echo "-")
if have "$us_ref"; then
  r_ref=$(calc %.0f "$us_ref / $us_p"); ref_how="measured, $REF_D-time-unit trial"
else
  r_ref=$(have "$trial_s" && calc %.0f "19 / $trial_s" || echo "-"); ref_how="spec: 19 s per trial"
fi
r_br=$(have "$us_br" && have "$us_z" && calc %.1f "$us_br / $us_z" || echo "-")

{
  echo "## plastix benchmark summary ($SIZE, $(date -u '+%Y-%m-%d'))"
  echo ""
  echo "Machine: $CPU, $CORES cores, L3 ${L3:-?}, kernels $ISA; plastix links"
  echo "${BLAS_PLX:-?}; BLAS in use: ${BLAS_USE:-?};"
  echo "load average before: $LOAD0, after: $(load). Times are CPU seconds of one"
  echo "process (best of repeats); ratios are taken in this run. Triad bandwidth:"
  echo "${BW:-?} GB/s (DRAM-sized arrays), ${BW_L3:-?} GB/s (L3-sized)."
  if [ "$(calc %d "${LOAD0%% *} >= 0.5")" = 1 ]; then
    echo ""
    echo "**Warning: the machine was loaded (load average $LOAD0 on $CORES cores):"
    echo "wall-clock figures, memory-bound sizes and the 2-thread speed-up are"
    echo "pessimistic; the instruction counts are not affected.**"
  fi
  echo ""
  echo "| target | measured | status |"
  echo "|---|---|---|"
  if ! skipped train; then
    echo "| <= 1 us per Euler step, plasticity on, N = 40 | $us_full us ($D_FULL-time-unit trial) | $(judge "$us_full" le 1) |"
    echo "| <= 0.1 s per 1000-time-unit trial | $trial_s s | $(judge "$trial_s" le 0.1) |"
    echo "| 260-trial paper run < 30 s | $run260 s ($run260_how) | $(judge "$run260" le 30) |"
    echo "| >= 150x the reference code | ${r_ref}x ($ref_how) | $(judge "$r_ref" ge 150) |"
    echo "| >= 20x vectorised numpy | ${r_np}x (numpy $us_np us vs $us_p us per step, $D_CMP-time-unit trial) | $(judge "$r_np" ge 20) |"
    echo "| < 50 MB resident | $rss MB (plx_bench process) | $(judge "$rss" le 50) |"
    echo "| >= 10x Brian2 without plasticity | ${r_br}x (Brian2 $br_t $us_br us vs $us_z us per step) | $(judge "$r_br" ge 10) |"
    echo "| within 2x of the bandwidth bound, N >= 500 | worst ratio plastic $bw_p, frozen $bw_z | $(judge "$bw_p" le 2) / $(judge "$bw_z" le 2) |"
    echo "| >= 1.8x from 1 to 2 cores (seeds) | ${sp:--}x wall (${spc:--}x from CPU time) | $(judge "$sp" ge 1.8) |"
  fi
  if ! skipped linear; then
  for L in 1 2; do
    gf=$(nval lin_full$L gflops); fr=$(ratio "$gf" "$g_d")
    echo "| linear full-batch step (N = $L, d = $LIN_D) >= 80% of OpenBLAS GEMM | $(calc %.0f "100 * $fr" 2>/dev/null)% of dgemm ($gf of $g_d GFLOP/s, double); $(calc %.0f "100 * $gf / $g_s" 2>/dev/null)% of sgemm ($g_s) | $(judge "$fr" ge 0.8) |"
  done
  for L in 1 2; do
    pe=$(nval lin_epoch$L s_epoch_cpu); te=$(nval torch_lin_epoch$L s_epoch_cpu single)
    r=$(ratio "$te" "$pe")
    echo "| minibatch epoch (N = $L, $LIN_N patches) >= PyTorch CPU | $(rx "$te" "$pe") (plastix $pe s vs torch ${te:--} s per epoch) | $(judge "$r" ge 1) |"
  done
  fi
  if ! skipped deepnet; then
  for B in $(echo "$MLP_B" | tr ',' ' '); do
    pm=$(nval mlp$B us_step_cpu); tm=$(nval torch_mlp$B us_step_cpu); r=$(ratio "$tm" "$pm")
    echo "| 4096-1024-256-60 step (batch $B) >= PyTorch CPU | $(rx "$tm" "$pm") (plastix $pm us vs torch ${tm:--} us) | $(judge "$r" ge 1) |"
  done
  pc=$(nval conv$CONV_B us_step_cpu); tc=$(nval torch_conv$CONV_B us_step_cpu); r=$(ratio "$tc" "$pc")
  echo "| conv-net step (batch $CONV_B) >= PyTorch CPU | $(rx "$tc" "$pc") (plastix $pc us vs torch ${tc:--} us) | $(judge "$r" ge 1) |"
  fi
  if ! skipped train; then
    echo ""
    echo "Peers per Euler step (CPU us): plastix $us_p, numpy ${us_np:--}, reference ${us_ref:--},"
    echo "Brian2 ${us_br:--} ($br_t); plastix without plasticity $us_z."
  fi
  if grep -q '^RESULT \(lin_\|mlp\|conv\|gemm\)' "$RES"; then
    echo ""
    echo "Linear and deep nets against PyTorch CPU ($("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo absent)), one thread,"
    echo "CPU time per step, best of $NET_REP (\"plastix is\": torch time / plastix time)."
    echo "GEMM $LIN_D^3: OpenBLAS dgemm $g_d, sgemm $g_s GFLOP/s; torch.mm double ${tg_d:--}, single ${tg_s:--}."
    echo ""
    echo "| case | plastix us | torch float32 us | torch float64 us | plastix is |"
    echo "|---|---|---|---|---|"
    if ! skipped linear; then
    for L in 1 2; do
      p=$(nval lin_full$L us_step_cpu); t=$(nval torch_lin_full$L us_step_cpu single)
      t64=$(nval torch_lin_full$L us_step_cpu double)
      echo "| linear full-batch step N = $L (plastix double) | $p | ${t:--} | ${t64:--} | $(rx "$t" "$p") (float64: $(rx "$t64" "$p")) |"
    done
    for L in 1 2; do
      p=$(nval lin_epoch$L us_step_cpu); t=$(nval torch_lin_epoch$L us_step_cpu single)
      echo "| minibatch step N = $L, batch $(nval lin_epoch$L batch) ($(nval lin_epoch$L steps_per_epoch) per epoch; plastix covariance share $(nval lin_epoch$L us_cov_cpu) us) | $p | ${t:--} | | $(rx "$t" "$p") |"
    done
    fi
    if ! skipped deepnet; then
    for B in $(echo "$MLP_B" | tr ',' ' '); do
      p=$(nval mlp$B us_step_cpu); t=$(nval torch_mlp$B us_step_cpu)
      echo "| MLP step batch $B (fwd / bwd / update: plastix $(nval mlp$B us_forward) / $(nval mlp$B us_backward) / $(nval mlp$B us_update), torch $(nval torch_mlp$B us_forward) / $(nval torch_mlp$B us_backward) / $(nval torch_mlp$B us_update)) | $p | ${t:--} | | $(rx "$t" "$p") |"
    done
    p=$(nval conv$CONV_B us_step_cpu); t=$(nval torch_conv$CONV_B us_step_cpu)
    echo "| conv step batch $CONV_B (fwd / bwd / update: plastix $(nval conv$CONV_B us_forward) / $(nval conv$CONV_B us_backward) / $(nval conv$CONV_B us_update), torch $(nval torch_conv$CONV_B us_forward) / $(nval torch_conv$CONV_B us_backward) / $(nval torch_conv$CONV_B us_update)) | $p | ${t:--} | | $(rx "$t" "$p") |"
    fi
  fi
  if [ -f "$OUT/scaling.csv" ]; then
    echo ""
    echo "| N | us/step plastic | us/step frozen | DRAM bound plastic (us) | DRAM bound frozen (us) | ratio plastic | ratio frozen | L3 bound plastic / frozen (us) |"
    echo "|---|---|---|---|---|---|---|---|"
    awk -F, 'NR > 1 { printf "| %s | %.4g | %.4g | %.4g | %.4g | %.2f | %.2f | %.3g / %.3g |\n", $1, $2, $3, $6, $7, $8, $9, $11, $12 }' "$OUT/scaling.csv"
  fi
  if have "$S1"; then
    echo ""
    echo "| threads | seed-steps/s | per core | speed-up (wall) | steps per CPU-s | speed-up from CPU time |"
    echo "|---|---|---|---|---|---|"
    for l in "$S1" "$S2"; do
      have "$l" && echo "| $(val "$l" threads) | $(val "$l" seed_steps_per_s) | $(val "$l" per_core) | $(val "$l" speedup_vs_first) | $(val "$l" steps_per_cpu_s) | $(val "$l" cpu_projected_speedup) |"
    done
  fi
  if grep -q '^RESULT batch batch ' "$RES"; then
    echo ""
    echo "| batch B | us per step | us per column-step |"
    echo "|---|---|---|"
    grep '^RESULT batch batch ' "$RES" | while read -r l; do
      echo "| $(val "$l" batch) | $(val "$l" us_step) | $(val "$l" us_column_step) |"
    done
  fi
  if grep -q '^RESULT callgrind_\(plastic\|frozen\)' "$RES"; then
    echo ""
    echo "| callgrind (inside plx_train) | steps | instructions | per step |"
    echo "|---|---|---|---|"
    grep '^RESULT callgrind_\(plastic\|frozen\)' "$RES" | while read -r l; do
      echo "| $(echo "$l" | cut -d' ' -f2) | $(val "$l" steps) | $(val "$l" ir) | $(val "$l" ir_per_step) |"
    done
  fi
  if grep -q '^RESULT callgrind_\(conv\|mlp\)' "$RES"; then
    echo ""
    echo "| callgrind, one deep-net training step | batch | instructions | in libplastix | in OpenBLAS |"
    echo "|---|---|---|---|---|"
    grep '^RESULT callgrind_\(conv\|mlp\)' "$RES" | while read -r l; do
      echo "| $(echo "$l" | cut -d' ' -f2) | $(val "$l" batch) | $(val "$l" ir_per_step) | $(val "$l" plastix_per_step) | $(val "$l" blas_per_step) |"
    done
  fi
} > "$SUM"
say ""
tee -a "$LOG" < "$SUM"
say ""
say "bench: wrote $SUM, $RES, $LOG${BW:+, $OUT/scaling.csv, $OUT/scaling.png}"
exit $status
