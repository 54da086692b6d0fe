#!/bin/bash
cd /work/wt/pc
start=$(date +%s)
echo "start $(date -u) load $(cut -d' ' -f1-3 /proc/loadavg)"
nice -n 10 node dist/src/cli/main.js --threads 1 run runs/w/predify-train.json --out runs/predify-train "$@"
echo "rc=$? wall=$(( $(date +%s) - start )) s end $(date -u) load $(cut -d' ' -f1-3 /proc/loadavg)"
