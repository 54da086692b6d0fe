#!/bin/bash
# MNIST seed 0: FF twin, clean accuracies, BPTT-ST gradient modes, curve EP / BPTT-ST / FF (issue 18, session 2).
cd /work/wt/ep
S="nice -n 10 npx vite-node bench/attractor-study.ts"
T="--threads 1 --tolerance 1e-3 --max-steps 100"
stamp() { echo "=== $(date -u +%T) $* | $(uptime | sed 's/.*load/load/')"; }
run() { stamp "start $*"; "$@"; stamp "end (rc $?)"; }
run $S ff --ep work/ep-s0-run --out work/study/mnist-s0 $T
run $S curve --models ep,bptt,ff --ep work/ep-s0-run --bptt work/bptt-st-run --out work/study/mnist-s0 $T --examples 200 --grid 0.02,0.05,0.1 --strongest 'truncated(15)+BPDA' --curve-attacks pgd-margin,pgd-ce,apgd-dlr,square,transfer --square-at 0.1
run $S modes --models bptt --bptt work/bptt-st-run --out work/study/mnist-s0 $T --examples 100 --modes 'unrolled,unrolled+BPDA,truncated(15)+BPDA,implicit,implicit+BPDA' --horizons 3,10,40 --horizon-variants BPDA
run $S clean --ep work/ep-s0-run --bptt work/bptt-st-run --out work/study/mnist-s0 $T
stamp "pipeline done"
