#!/bin/bash
# Fashion-MNIST seed 1: EP, its FF twin, EP vs FF under the two strongest gradients (issue 18, session 2).
cd /work/wt/ep
S="nice -n 10 npx vite-node bench/attractor-study.ts"
T="--threads 1 --tolerance 1e-3 --max-steps 100 --data fashion-mnist"
stamp() { echo "=== $(date -u +%T) $* | $(uptime | sed 's/.*load/load/')"; }
run() { stamp "start $*"; "$@"; stamp "end (rc $?)"; }
run nice -n 10 npx vite-node src/cli/main.ts --threads 1 run sims/ep-deep-fashion.json --seed 1 --out work/fashion-s1-run
run $S ff --seed 1 --ep work/fashion-s1-run --out work/study/fashion-s1 $T --ff-epochs 4
mkdir -p work/study/fashion-s1-b; cp -r work/study/fashion-s1/ff work/study/fashion-s1-b/
run $S curve --models ep,ff --ep work/fashion-s1-run --out work/study/fashion-s1 $T --examples 200 --grid 0.02,0.05,0.1 --strongest 'horizon 5' --curve-attacks pgd-margin,pgd-ce,apgd-dlr,transfer,transfer-ff &
run $S curve --models ep --ep work/fashion-s1-run --out work/study/fashion-s1-b $T --examples 200 --grid 0.02,0.05,0.1 --strongest 'truncated(15)+BPDA' --curve-attacks pgd-margin,pgd-ce
wait
stamp "pipeline done"
