#!/bin/bash
# Stops the conv training after its epoch-2 checkpoint, closes the run at 2 epochs, then starts the attack study.
cd /work/wt/ep
stamp() { echo "=== $(date -u +%T) $* | $(uptime | sed 's/.*load/load/')"; }
until tr '\r' '\n' < work/conv-train.log | grep -q "ep epoch 2:"; do sleep 5; done
sleep 3
stamp "epoch 2 done; stopping 3313"
kill 3313; sleep 3; kill -9 3313 2>/dev/null
sed -i 's/"epochs": 4,/"epochs": 2,/' work/.conv-run.checkpoint/spec.json sims/ep-conv-mnist.json
grep -n '"epochs"' work/.conv-run.checkpoint/spec.json sims/ep-conv-mnist.json
stamp "finalize"
nice -n 10 npx vite-node src/cli/main.ts --threads 1 run sims/ep-conv-mnist.json --out work/conv-run --resume > work/conv-finalize.log 2>&1
stamp "finalized (rc $?)"
nohup work/pipeline-conv.sh a > work/pipeline-conv-a.log 2>&1 &
nohup work/pipeline-conv.sh b > work/pipeline-conv-b.log 2>&1 &
stamp "conv study started"
