#!/bin/bash
# Is the Fashion EP net's robustness masking? Gradient modes at ε 0.05, then transfer from the FF twin (issue 18, session 2).
cd /work/wt/ep
S="nice -n 10 npx vite-node bench/attractor-study.ts"
T="--threads 1 --tolerance 1e-3 --max-steps 100"
stamp() { echo "=== $(date -u +%T) $* | $(uptime | sed 's/.*load/load/')"; }
run() { stamp "start $*"; "$@"; stamp "end (rc $?)"; }
mkdir -p work/study/fashion-transfer-ff work/study/mnist-s0-transfer-ff work/study/mnist-s1-transfer-ff; cp -r work/study/fashion/ff work/study/fashion-transfer-ff/; cp -r work/study/mnist-s0/ff work/study/mnist-s0-transfer-ff/; cp -r work/study/mnist-s1/ff work/study/mnist-s1-transfer-ff/
run $S curve --data fashion-mnist --models ep --ep work/fashion-run --out work/study/fashion-transfer-ff $T --examples 200 --grid 0.02,0.05,0.1 --curve-attacks transfer-ff
run $S modes --data fashion-mnist --models ep --ep work/fashion-run --out work/study/fashion-modes $T --examples 100 --eps 0.05 --modes 'unrolled,unrolled+BPDA,truncated(15)+BPDA,implicit+BPDA' --horizons 3,5,10
run $S curve --models ep --ep work/ep-s0-run --out work/study/mnist-s0-transfer-ff $T --examples 200 --grid 0.02,0.05,0.1 --curve-attacks transfer-ff
run $S curve --models ep --ep work/ep-s1-run --out work/study/mnist-s1-transfer-ff $T --examples 200 --grid 0.05,0.1 --curve-attacks transfer-ff
stamp "pipeline done"
