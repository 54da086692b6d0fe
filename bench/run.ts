/**
 * The benchmark runner: `npm run bench -- [--backend wasm|cpu] [--only a,b] [--threads N] [--max-seconds S]
 * [--compare [--reference-dir DIR] [--python CMD]]`. Prints one JSON object per workload on stdout with the
 * keys of torch_reference.py; notes go to stderr. With --compare, also runs roofline.py and
 * torch_reference.py and prints a comparison table.
 */
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_BACKEND, disableNativeKernels, enableNativeKernels, nativeStatus, setNativeThreads, useBackend } from '../src/tensor/index.js';
import { NeurodynError } from '../src/base/errors.js';
import { formatTable, runReferences } from './compare.js';
import { backendThreads, isSkipped, profileWorkload, runWorkload, type BenchResult, type Skipped } from './runner.js';
import { WORKLOADS, workloadIds } from './workloads/index.js';

const HELP = `usage: npm run bench -- [options]
  --backend NAME        tfjs backend: wasm (default) or cpu (pure JS, slow)
  --only a,b            run only these workloads (${workloadIds().join(', ')})
  --threads N           threads for the native kernels (OpenBLAS, oneDNN) and for torch's second run
                        (default: ${availableParallelism()}); torch also runs at 1 thread, and the faster
                        counts; the plain wasm kernels are single-threaded under Node whatever N is
  --max-seconds S       skip a workload whose timed run would take longer than S seconds, estimated from
                        the warm-up (default: none on wasm, 300 on cpu)
  --compare             also run roofline.py and torch_reference.py --threads 1 and N, and print a table
  --reference-dir DIR   where roofline.py and torch_reference.py are (default: <repo>/../shared/bench)
  --python CMD          python3 to run them with (default: python3, else /usr/bin/python3)
  --cpu-time            time process CPU milliseconds per step on one thread instead of wall time, for
                        ours and (with --compare) torch and numpy alike: a ratio that survives a loaded
                        machine (implies --threads 1)
  --profile             instead of timing, print where one step's time goes, kernel by kernel (tf.profile)
  --native-ab R         instead: each workload with the native kernels and with the plain wasm ones (in CPU
                        time with --cpu-time),
                        alternating, R rounds, in one process; prints each round's ratio and the median
                        (on a shared machine, a ratio taken this way survives load that a table does not)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: DEFAULT_BACKEND },
      only: { type: 'string', default: '' },
      threads: { type: 'string' },
      'max-seconds': { type: 'string' },
      compare: { type: 'boolean', default: false },
      'reference-dir': { type: 'string' },
      python: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'cpu-time': { type: 'boolean', default: false },
      'native-ab': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const only = values.only.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only.filter((id) => !workloadIds().includes(id));
  if (unknown.length) throw new NeurodynError(`--only: unknown workload(s) ${unknown.join(', ')}; known: ${workloadIds().join(', ')}`);
  const clock = values['cpu-time'] ? 'cpu' : 'wall';
  if (clock === 'cpu' && values.threads !== undefined && values.threads !== '1') throw new NeurodynError('--cpu-time measures one thread: leave out --threads or give --threads 1');
  const threads = clock === 'cpu' ? 1 : values.threads === undefined ? availableParallelism() : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new NeurodynError(`--threads: expected a positive integer, got ${values.threads}`);
  const maxSeconds =
    values['max-seconds'] !== undefined ? Number(values['max-seconds']) : values.backend === 'cpu' ? 300 : undefined;
  if (maxSeconds !== undefined && !(maxSeconds > 0)) throw new NeurodynError(`--max-seconds: expected a positive number`);

  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const refDir = values['reference-dir'] ? resolve(values['reference-dir']) : resolve(repoRoot, '../shared/bench');

  // The reference runs first, alone, so that the two do not compete for the cores.
  const ref = values.compare ? runReferences(refDir, [1, threads], only, values.python, clock) : undefined;
  if (ref) {
    if (ref.roofline) console.log(JSON.stringify(ref.roofline));
    for (const l of ref.torchRuns) console.log(JSON.stringify(l));
    for (const n of ref.notes) console.error(`note: ${n}`);
  }

  setNativeThreads(threads);
  await useBackend(values.backend);
  if (values.threads !== undefined && backendThreads() !== threads)
    console.error(`note: the ${values.backend} backend computes with ${backendThreads()} thread(s) here (no native kernels); --threads ${threads} applied to torch's second run`);
  if (values.profile) {
    for (const w of WORKLOADS) {
      if (only.length && !only.includes(w.id)) continue;
      const p = await profileWorkload(w);
      if ('skipped' in p) {
        console.log(`${w.id}: skipped: ${p.skipped}`);
        continue;
      }
      const total = p.kernels.reduce((s, k) => s + k.ms, 0);
      console.log(`${w.id} on ${values.backend}: one step ${p.stepMs.toFixed(2)} ms unprofiled; kernels sum to ${total.toFixed(2)} ms under tf.profile`);
      for (const k of p.kernels.slice(0, 15))
        console.log(`  ${k.ms.toFixed(2).padStart(9)} ms ${((100 * k.ms) / total).toFixed(1).padStart(5)}%  ${String(k.calls).padStart(3)}×  ${k.kernel} ${k.inputShapes}`);
    }
    return 0;
  }
  if (values['native-ab'] !== undefined) {
    const rounds = Number(values['native-ab']);
    if (!Number.isInteger(rounds) || rounds < 1) throw new NeurodynError(`--native-ab: expected a positive number of rounds, got ${values['native-ab']}`);
    const status = nativeStatus();
    if (!status.available) throw new NeurodynError(`--native-ab needs the native kernels: ${status.reason}`);
    for (const w of WORKLOADS) {
      if (only.length && !only.includes(w.id)) continue;
      const ratios: number[] = [];
      for (let r = 0; r < rounds; r++) {
        enableNativeKernels();
        const nat = runWorkload(w, { clock });
        disableNativeKernels();
        const plain = runWorkload(w, { clock });
        enableNativeKernels();
        if (isSkipped(nat) || isSkipped(plain)) break;
        ratios.push(plain.ms_per_step / nat.ms_per_step);
        console.log(JSON.stringify({ workload: w.id, round: r + 1, native_ms: nat.ms_per_step, plain_wasm_ms: plain.ms_per_step, speedup: Math.round((plain.ms_per_step / nat.ms_per_step) * 100) / 100, threads: nat.threads }));
      }
      const sorted = [...ratios].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      const median = sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
      console.log(`${w.id}: native is ${median.toFixed(2)}× plain wasm (median of ${ratios.length} alternating rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')})`);
    }
    return 0;
  }
  const results: (BenchResult | Skipped)[] = [];
  let failed = false;
  for (const w of WORKLOADS) {
    if (only.length && !only.includes(w.id)) continue;
    try {
      const r = runWorkload(w, { clock, ...(maxSeconds === undefined ? {} : { maxSeconds }) });
      results.push(r);
      if (isSkipped(r)) console.error(`${w.id} skipped: ${r.skipped}`);
      else console.log(JSON.stringify(r));
    } catch (e) {
      failed = true;
      const msg = e instanceof Error ? e.message : String(e);
      console.error(`${w.id} failed: ${msg}`);
      results.push({ workload: w.id, skipped: `failed: ${msg}` });
    }
  }
  if (ref) console.log('\n' + formatTable(ref, results, clock));
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof NeurodynError ? e.message : e);
    process.exit(e instanceof NeurodynError ? e.exitCode : 1);
  },
);
