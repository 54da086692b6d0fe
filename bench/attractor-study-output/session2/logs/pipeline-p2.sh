#!/bin/bash
# MNIST seed 1 curve, then the Fashion-MNIST curve (issue 18, session 2).
cd /work/wt/ep
S="nice -n 10 npx vite-node bench/attractor-study.ts"
T="--threads 1 --tolerance 1e-3 --max-steps 100"
stamp() { echo "=== $(date -u +%T) $* | $(uptime | sed 's/.*load/load/')"; }
run() { stamp "start $*"; "$@"; stamp "end (rc $?)"; }
run $S curve --models ep,ff --ep work/ep-s1-run --out work/study/mnist-s1 $T --examples 200 --grid 0.05,0.1 --strongest 'truncated(15)+BPDA' --curve-attacks pgd-margin,pgd-ce,apgd-dlr,square,transfer --square-at 0.1
run $S curve --data fashion-mnist --models ep,ff --ep work/fashion-run --out work/study/fashion $T --examples 200 --grid 0.02,0.05,0.1 --strongest 'truncated(15)+BPDA' --curve-attacks pgd-margin,pgd-ce,apgd-dlr,square,transfer --square-at 0.05,0.1
stamp "pipeline done"
