#!/bin/bash
# MNIST seed 1: EP and its FF twin, the curve at ε 0.05 and 0.1 (issue 18, session 2).
cd /work/wt/ep
S="nice -n 10 npx vite-node bench/attractor-study.ts"
T="--threads 1 --tolerance 1e-3 --max-steps 100"
stamp() { echo "=== $(date -u +%T) $* | $(uptime | sed 's/.*load/load/')"; }
run() { stamp "start $*"; "$@"; stamp "end (rc $?)"; }
while [ ! -f work/ep-s0-run/summary.json ]; do sleep 10; done
run nice -n 10 npx vite-node src/cli/main.ts --threads 1 run sims/ep-deep-mnist.json --seed 1 --out work/ep-s1-run
run $S ff --seed 1 --ep work/ep-s1-run --out work/study/mnist-s1 $T
run $S curve --models ep,ff --ep work/ep-s1-run --out work/study/mnist-s1 $T --examples 200 --grid 0.05,0.1 --strongest 'truncated(15)+BPDA' --curve-attacks pgd-margin,pgd-ce,apgd-dlr,square,transfer
stamp "pipeline done"
