#!/bin/bash
# The EP nets under the 'horizon 5' white-box gradient (the strongest on the Fashion net at ε 0.05), per image combined later (issue 18, session 2).
cd /work/wt/ep
S="nice -n 10 npx vite-node bench/attractor-study.ts"
T="--threads 1 --tolerance 1e-3 --max-steps 100"
stamp() { echo "=== $(date -u +%T) $* | $(uptime | sed 's/.*load/load/')"; }
run() { stamp "start $*"; "$@"; stamp "end (rc $?)"; }
run $S curve --data fashion-mnist --models ep --ep work/fashion-run --out work/study/fashion-h5 $T --examples 200 --grid 0.02,0.05,0.1 --strongest 'horizon 5' --curve-attacks pgd-margin,pgd-ce,apgd-dlr
run $S curve --models ep --ep work/ep-s0-run --out work/study/mnist-s0-h5 $T --examples 200 --grid 0.02,0.05,0.1 --strongest 'horizon 5' --curve-attacks pgd-margin,pgd-ce,apgd-dlr
run $S curve --models ep --ep work/ep-s1-run --out work/study/mnist-s1-h5 $T --examples 200 --grid 0.05,0.1 --strongest 'horizon 5' --curve-attacks pgd-margin,pgd-ce,apgd-dlr
stamp "pipeline done"
