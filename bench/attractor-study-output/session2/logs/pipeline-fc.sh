#!/bin/bash
# The fully connected part of the attractor study, one process at a time (issue 18, session 2).
cd /work/wt/ep
S="nice -n 10 npx vite-node bench/attractor-study.ts"
T="--threads 1 --tolerance 1e-3 --max-steps 100"
stamp() { echo "=== $(date -u +%T) $* | $(uptime | sed 's/.*load/load/')"; }
run() { stamp "start $*"; "$@"; stamp "end (rc $?)"; }
wait_for() { while [ ! -f "$1/summary.json" ]; do sleep 10; done; }
# Fashion-MNIST: FF twin at EP's accuracy, then the curve
run $S ff --data fashion-mnist --ep work/fashion-run --out work/study/fashion $T --ff-epochs 8
run $S curve --data fashion-mnist --models ep,ff --ep work/fashion-run --out work/study/fashion $T --examples 200 --grid 0.01,0.02,0.05,0.1 --strongest 'truncated(15)+BPDA' --curve-attacks pgd-margin,pgd-ce,apgd-dlr,square,transfer
# MNIST seed 0: FF twin, clean accuracies, BPTT-ST gradient modes, curve EP / BPTT-ST / FF
wait_for work/ep-s0-run
run $S ff --ep work/ep-s0-run --out work/study/mnist-s0 $T
wait_for work/bptt-st-run
run $S clean --ep work/ep-s0-run --bptt work/bptt-st-run --out work/study/mnist-s0 $T
run $S modes --models bptt --bptt work/bptt-st-run --out work/study/mnist-s0 $T --examples 100 --modes 'unrolled,unrolled+BPDA,truncated(15)+BPDA,implicit,implicit+BPDA' --horizons 3,10,40 --horizon-variants BPDA
run $S curve --models ep,bptt,ff --ep work/ep-s0-run --bptt work/bptt-st-run --out work/study/mnist-s0 $T --examples 200 --grid 0.02,0.05,0.1 --strongest 'truncated(15)+BPDA' --curve-attacks pgd-margin,pgd-ce,apgd-dlr,square,transfer
stamp "pipeline done"
