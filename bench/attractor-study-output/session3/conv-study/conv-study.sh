#!/bin/bash
cd /work/main
R=/tmp/s3/conv-final
T="--threads 1 --tolerance 1e-3 --max-steps 100 --models ep --ep $R"
while [ ! -f $R/summary.json ]; do sleep 10; done
echo "=== $(date -u +%T) start | $(uptime | sed 's/.*load/load/')"
node dist/bench/attractor-study.js modes $T --out /tmp/s3/conv-study/a --examples 100 --modes 'unrolled,unrolled+BPDA,truncated(15)+BPDA,implicit' --horizons none > /tmp/s3/conv-study-a.log 2>&1 &
node dist/bench/attractor-study.js modes $T --out /tmp/s3/conv-study/b --examples 100 --modes none --horizons 3,5,10 --horizon-variants exact > /tmp/s3/conv-study-b.log 2>&1 &
wait
node dist/bench/attractor-study.js clean $T --out /tmp/s3/conv-study/a > /tmp/s3/conv-study-clean.log 2>&1
echo "=== $(date -u +%T) end | $(uptime | sed 's/.*load/load/')"
