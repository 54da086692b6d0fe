#!/bin/bash
# Fashion EP: more white-box gradients (horizons 3 and 10, PGD-100 through horizon 5) before believing its advantage (issue 18, session 2).
cd /work/wt/ep
S="nice -n 10 npx vite-node bench/attractor-study.ts"
T="--threads 1 --tolerance 1e-3 --max-steps 100 --data fashion-mnist --models ep --ep work/fashion-run --examples 200 --grid 0.02,0.05,0.1"
stamp() { echo "=== $(date -u +%T) $* | $(uptime | sed 's/.*load/load/')"; }
run() { stamp "start $*"; "$@"; stamp "end (rc $?)"; }
case $1 in
a) run $S curve $T --out work/study/fashion-h3 --strongest 'horizon 3' --curve-attacks pgd-margin,pgd-ce
   run $S curve $T --out work/study/fashion-h10 --strongest 'horizon 10' --curve-attacks pgd-margin,pgd-ce ;;
b) run $S curve $T --out work/study/fashion-h5-pgd100 --strongest 'horizon 5' --pgd-steps 100 --curve-attacks pgd-margin ;;
esac
stamp "pipeline $1 done"
