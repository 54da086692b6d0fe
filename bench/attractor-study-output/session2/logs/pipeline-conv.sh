#!/bin/bash
# The conv EP (P_CNN) attack study at ε 0.1 on 100 images, in two halves run side by side (issue 18, session 2).
cd /work/wt/ep
S="nice -n 10 npx vite-node bench/attractor-study.ts"
T="--threads 1 --tolerance 1e-3 --max-steps 100 --models ep --ep work/conv-run"
stamp() { echo "=== $(date -u +%T) $* | $(uptime | sed 's/.*load/load/')"; }
run() { stamp "start $*"; "$@"; stamp "end (rc $?)"; }
half=$1
if [ "$half" = a ]; then
  run $S modes $T --out work/study/conv-a --examples 100 --modes 'unrolled,unrolled+BPDA' --horizons 10 --horizon-variants BPDA
  run $S clean $T --out work/study/conv-a
else
  run $S modes $T --out work/study/conv-b --examples 100 --modes 'truncated(15)+BPDA,implicit' --horizons 3 --horizon-variants BPDA --no-transfer
fi
stamp "pipeline $half done"
