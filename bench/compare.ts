/**
 * `--compare`: in one go on one machine, runs the OpenBLAS roofline (roofline.py), the PyTorch reference
 * (torch_reference.py --threads 1, then --threads N) and our workloads, then prints a table of ms/step,
 * the ratio torch ms / ours ms (> 1: we are faster) and our GFLOP/s as a percentage of the sgemm rate.
 * The reference for each workload is the faster of torch's runs: on 2 shared cores torch at 2 threads is
 * sometimes slower than at 1, and a ratio against the slower one would flatter us.
 * A missing python3, NumPy or PyTorch is reported with the package to install; our numbers are printed anyway.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResult, Skipped } from './runner.js';

export interface RefLine {
  workload: string;
  ms_per_step: number;
  gflops?: number;
  steps?: number;
  impl?: string;
  threads?: number;
}

const canImport = (py: string, mod: string): boolean | 'no-python' => {
  const r = spawnSync(py, ['-c', `import ${mod}`], { stdio: 'ignore' });
  if (r.error) return 'no-python';
  return r.status === 0;
};

/**
 * The python3 to use for `mod`: the one given, else `python3` on PATH, else /usr/bin/python3 (Debian's
 * python3-torch lives there; a pyenv python3 on PATH does not see it). Returns the command or a message.
 */
export function findPython(mod: 'torch' | 'numpy', explicit?: string): { py: string } | { missing: string } {
  const pkg = mod === 'torch' ? 'python3-torch' : 'python3-numpy';
  const candidates = explicit ? [explicit] : ['python3', '/usr/bin/python3'];
  let anyPython = false;
  for (const py of candidates) {
    const ok = canImport(py, mod);
    if (ok === 'no-python') continue;
    anyPython = true;
    if (ok) return { py };
  }
  if (!anyPython)
    return { missing: `python3 not found (${candidates.join(', ')}): apt-get install -y python3 ${pkg}` };
  return { missing: `${pkg} not installed for ${candidates.join(' or ')}: apt-get install -y ${pkg}` };
}

/**
 * What the timings measure: `wall` (the scripts as they are) or `cpu`, process CPU time on one thread: the
 * scripts run with their timer (time.perf_counter) replaced by time.process_time and with OpenBLAS and
 * OpenMP held to one thread. On a machine shared with other jobs, CPU time counts the work done, not the
 * waiting for a core, so a ratio taken this way survives load (at one thread only: see bench/README.md).
 */
export type BenchClock = 'wall' | 'cpu';

const CPU_CLOCK_PRELUDE =
  'import runpy, sys, time; time.perf_counter = time.process_time; script = sys.argv[1]; sys.argv = sys.argv[1:]; runpy.run_path(script, run_name="__main__")';

/**
 * Runs a reference script with its BLAS and OpenMP pools at `threads` (1 on the CPU clock); returns its JSON
 * lines or an error message. Its stderr passes through.
 *
 * The environment, and not torch.set_num_threads alone, sets the thread count: torch 1.13's
 * set_num_threads(1) sizes only its own intra-op pool, and Debian's OpenBLAS (pthread build) that torch's
 * matmuls call keeps one thread per core (measured: openblas_get_num_threads() = 2 and two threads in the
 * process after set_num_threads(1); bench/README.md), so "torch at 1 thread" ran its products on 2.
 */
export function runReference(py: string, script: string, args: string[], clock: BenchClock = 'wall', threads?: number): RefLine[] | string {
  if (!existsSync(script)) return `${script} not found (set --reference-dir)`;
  const argv = clock === 'cpu' ? ['-c', CPU_CLOCK_PRELUDE, script, ...args] : [script, ...args];
  const pool = clock === 'cpu' ? '1' : threads !== undefined ? String(threads) : undefined;
  const env = pool ? { ...process.env, OPENBLAS_NUM_THREADS: pool, OMP_NUM_THREADS: pool, MKL_NUM_THREADS: pool } : process.env;
  const r = spawnSync(py, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24, env });
  if (r.error) return `${py} ${script}: ${r.error.message}`;
  const lines: RefLine[] = [];
  for (const l of r.stdout.split('\n')) {
    const s = l.trim();
    if (!s.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(s) as RefLine);
    } catch {
      /* not a result line */
    }
  }
  if (r.status !== 0) return `${py} ${script} exited with status ${r.status}${lines.length ? '' : ' and printed no results'}`;
  return lines;
}

export interface ReferenceRun {
  roofline?: RefLine;
  /** Per workload, the fastest of torch's runs. */
  torch: RefLine[];
  /** Every torch line, of every thread count. */
  torchRuns: RefLine[];
  notes: string[];
}

/** Per workload, the line with the smallest ms_per_step. */
export function fastestPerWorkload(lines: readonly RefLine[]): RefLine[] {
  const best = new Map<string, RefLine>();
  for (const l of lines) {
    const b = best.get(l.workload);
    if (!b || l.ms_per_step < b.ms_per_step) best.set(l.workload, l);
  }
  return [...best.values()];
}

/** Runs the roofline, then torch at each of `threadCounts` (1 and N by default), one after the other. */
export function runReferences(refDir: string, threadCounts: readonly number[], only: string[], python?: string, clock: BenchClock = 'wall'): ReferenceRun {
  const out: ReferenceRun = { torch: [], torchRuns: [], notes: [] };
  const np = findPython('numpy', python);
  if ('missing' in np) out.notes.push(`roofline skipped: ${np.missing}`);
  else {
    // The roofline at the most threads ours runs with (the ceiling for ours at N threads).
    const r = runReference(np.py, join(refDir, 'roofline.py'), [], clock, Math.max(...threadCounts));
    if (typeof r === 'string') out.notes.push(`roofline failed: ${r}`);
    else out.roofline = r.find((l) => l.workload.startsWith('sgemm'));
  }
  const th = findPython('torch', python);
  if ('missing' in th) out.notes.push(`torch reference skipped: ${th.missing}`);
  else {
    for (const threads of [...new Set(threadCounts)]) {
      const args = ['--threads', String(threads)];
      if (only.length) args.push('--only', only.join(','));
      const r = runReference(th.py, join(refDir, 'torch_reference.py'), args, clock, threads);
      if (typeof r === 'string') out.notes.push(`torch reference at ${threads} thread(s) failed: ${r}`);
      else out.torchRuns.push(...r);
    }
    out.torch = fastestPerWorkload(out.torchRuns);
  }
  return out;
}

const fmt = (x: number | undefined, d: number): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

export function formatTable(ref: ReferenceRun, ours: (BenchResult | Skipped)[], clock: BenchClock = 'wall'): string {
  const sgemm = ref.roofline?.gflops;
  const counts = [...new Set(ref.torchRuns.map((l) => l.threads))].join(' and ');
  const torchImpl = ref.torch[0] ? `${ref.torch[0].impl ?? 'torch'}, the faster of ${counts} threads per workload (torch thr)` : 'not run';
  const oursOk = ours.find((r): r is BenchResult => !('skipped' in r));
  const oursImpl = oursOk ? `${oursOk.impl}, ${oursOk.threads} thread${oursOk.threads === 1 ? '' : 's'}` : 'ours';
  const head = ['workload', 'torch thr', 'torch ms/step', 'ours ms/step', 'ratio', 'torch GFLOP/s', 'ours GFLOP/s', 'ours % sgemm'];
  const rows: string[][] = [];
  for (const r of ours) {
    const t = ref.torch.find((l) => l.workload === r.workload);
    if ('skipped' in r) {
      rows.push([r.workload, String(t?.threads ?? '-'), fmt(t?.ms_per_step, 2), `skipped`, '-', fmt(t?.gflops, 2), '-', '-']);
      continue;
    }
    const ratio = t ? t.ms_per_step / r.ms_per_step : undefined;
    const pct = sgemm && r.gflops !== undefined ? (100 * r.gflops) / sgemm : undefined;
    rows.push([r.workload, String(t?.threads ?? '-'), fmt(t?.ms_per_step, 2), fmt(r.ms_per_step, 2), fmt(ratio, 2), fmt(t?.gflops, 2), fmt(r.gflops, 2), fmt(pct, 1)]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  const out = [
    ...(clock === 'cpu' ? ['ms/step below are process CPU milliseconds per step on one thread (--cpu-time), for torch, numpy and ours alike'] : []),
    `sgemm roofline (numpy/OpenBLAS, 1024³): ${sgemm !== undefined ? `${sgemm} GFLOP/s` : 'not measured'}`,
    `torch: ${torchImpl}; ours: ${oursImpl}; ratio = torch ms / ours ms (> 1: ours faster)`,
    line(head),
    sep,
    ...rows.map(line),
  ];
  for (const r of ours) if ('skipped' in r) out.push(`${r.workload} skipped: ${r.skipped}`);
  for (const n of ref.notes) out.push(`note: ${n}`);
  return out.join('\n');
}
