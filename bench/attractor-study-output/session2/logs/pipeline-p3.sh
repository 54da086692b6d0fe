#!/bin/bash
# BPTT-ST gradient modes at ε 0.1 on 100 images (issue 18, session 2).
cd /work/wt/ep
S="nice -n 10 npx vite-node bench/attractor-study.ts"
T="--threads 1 --tolerance 1e-3 --max-steps 100"
stamp() { echo "=== $(date -u +%T) $* | $(uptime | sed 's/.*load/load/')"; }
run() { stamp "start $*"; "$@"; stamp "end (rc $?)"; }
run $S modes --models bptt --bptt work/bptt-st-run --out work/study/mnist-s0-bptt-modes $T --examples 100 --modes 'unrolled,unrolled+BPDA,truncated(5),implicit' --horizons 3,10,40 --horizon-variants exact
stamp "pipeline done"
