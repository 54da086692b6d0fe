/**
 * What `neurodyn export --format npz|nirdata` writes from a run folder.
 *
 * npz: `traces.npz` holds the recorded traces, each `traces/<trace>` [records, examples, ...] with
 * `traces/<trace>.steps` (int32, the step index of every record) and `traces/<trace>.time` (float64,
 * step · h); `weights.npz` holds the trained parameters, `<model dir>/<name>`. A run without traces writes
 * only weights.npz, so a file's name says what it holds.
 *
 * NIRData (NIR's recorded-data format, `nir.read_data`): keys are node names of the system's NIR graph
 * (families/trace-nodes.ts), checked against the graph the export builds from the trained model; each
 * trace becomes a TimeGriddedData observable `<observable>-<label>` of shape [samples, records, neurons]
 * whose `dt` is the real spacing of its records, every · h. A probe records after every `every`-th step
 * and always after the last step taken, so when a relaxation stops off that grid its last record is
 * irregular: TimeGriddedData has one dt, so that record is dropped (and said so); traces.npz keeps it with
 * its step. Quantities with no node (energy, derived scalars) are left out of NIRData and named.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError, SpecError } from '../base/errors.js';
import type { NpzMember } from '../export/npz.js';
import { decodeNpy } from '../export/npy.js';
import type { Events, GraphData, Observable } from '../export/nirdata.js';
import { tfjsEngine } from '../hardware/emulate-tfjs.js';
import type { SpikingNetwork } from '../hardware/quantize.js';
import type { NirGraph } from '../export/nir.js';
import { hasTraceNodes, traceNode } from '../families/trace-nodes.js';
import { readTraces, type StoredTrace } from '../runs/trace-files.js';

/** The trained parameters of every saved model of the run folder (model/, model-bptt/, model-c2/, …). */
export function weightArrays(runDir: string): Record<string, NpzMember> {
  const out: Record<string, NpzMember> = {};
  for (const dir of fs.readdirSync(runDir).filter((d) => /^model(-.+)?$/.test(d) && fs.statSync(path.join(runDir, d)).isDirectory()).sort()) {
    for (const f of fs.readdirSync(path.join(runDir, dir)).filter((x) => x.endsWith('.npy')).sort()) {
      const npy = decodeNpy(fs.readFileSync(path.join(runDir, dir, f)));
      out[`${dir}/${f.replace(/\.npy$/, '')}`] = { data: npy.data, shape: npy.shape };
    }
  }
  return out;
}

/** Every recorded trace with its step indices and times. */
export function traceArrays(runDir: string): Record<string, NpzMember> {
  const out: Record<string, NpzMember> = {};
  for (const { record, data } of readTraces(runDir)) {
    out[`traces/${record.trace}`] = { data, shape: record.shape };
    out[`traces/${record.trace}.steps`] = { data: Int32Array.from(record.steps), shape: [record.steps.length] };
    out[`traces/${record.trace}.time`] = { data: Float64Array.from(record.steps, (s) => s * record.dt), shape: [record.steps.length] };
  }
  return out;
}

export interface GriddedTrace {
  readonly observable: Observable & { kind: 'time-gridded' };
  /** Steps of the records kept. */
  readonly steps: readonly number[];
  /** Steps of records dropped because they lie off the regular grid. */
  readonly dropped: readonly number[];
}

/**
 * A trace as TimeGriddedData: samples first ([samples, records, neurons]), the records on the grid
 * 0, every, 2·every, … only, dt = every · h.
 */
export function griddedTrace(trace: StoredTrace): GriddedTrace {
  const { record, data } = trace;
  const every = record.probe.every;
  let kept = 0;
  while (kept < record.steps.length && record.steps[kept] === kept * every) kept++;
  const dropped = record.steps.slice(kept);
  if (kept === 0) throw new DataError(`trace ${record.trace}: its first record is at step ${record.steps[0]}, not 0; it has no regular time grid`);
  const [records, ...rest] = record.shape;
  const perExample = record.probe.reduce === 'none' && rest.length >= 1;
  const samples = perExample ? rest[0]! : 1;
  const neurons = (perExample ? rest.slice(1) : rest).reduce((a, b) => a * b, 1);
  if (records! * samples * neurons !== data.length) throw new DataError(`trace ${record.trace}: shape [${record.shape.join(', ')}] does not match its ${data.length} values`);
  const grid = new Float32Array(samples * kept * neurons);
  for (let t = 0; t < kept; t++) for (let s = 0; s < samples; s++) for (let n = 0; n < neurons; n++) grid[(s * kept + t) * neurons + n] = Number(data[(t * samples + s) * neurons + n]);
  return { observable: { kind: 'time-gridded', data: grid, shape: [samples, kept, neurons], dt: every * record.dt }, steps: record.steps.slice(0, kept), dropped };
}

export interface NirDataPlan {
  readonly data: Record<string, Record<string, Observable>>;
  /** One line per trace left out or shortened, for the person exporting. */
  readonly notes: string[];
}

/**
 * The NIRData of a run folder's traces, keyed by the node names of `graph` (the system's NIR graph); a
 * mapped node the graph lacks is an internal error, a system without a graph a clear refusal.
 */
export function nirDataOf(runDir: string, system: { readonly kind: string } & Readonly<Record<string, unknown>>, graph: NirGraph, requireTraces = true): NirDataPlan {
  if (!hasTraceNodes(system.kind)) throw new SpecError('--format', `${system.kind} has no NIR graph, so its traces have no node names to be NIRData keys; export them with --format npz`);
  const traces = readTraces(runDir);
  if (traces.length === 0 && requireTraces) throw new SpecError('<run-folder>', `${runDir} holds no traces/*.npy; add probes to the spec, or trace a trained run folder with neurodyn relax`);
  const data: Record<string, Record<string, Observable>> = {};
  const notes: string[] = [];
  for (const trace of traces) {
    const { record } = trace;
    if (trace.guessed) {
      notes.push(`${record.trace}: left out (no ${record.trace}.json beside it says which variable and steps it holds; re-run to record it)`);
      continue;
    }
    const mapped = traceNode(system, record.probe.variable);
    if (typeof mapped === 'string') {
      notes.push(`${record.trace}: left out of NIRData (${mapped}); it is in traces.npz`);
      continue;
    }
    if (!graph.nodes[mapped.node]) throw new Error(`internal error: ${record.probe.variable} maps to NIR node ${mapped.node}, which the ${system.kind} graph lacks (nodes: ${Object.keys(graph.nodes).join(', ')})`);
    const gridded = griddedTrace(trace);
    const name = record.label ? `${mapped.observable}-${record.label}` : mapped.observable;
    (data[mapped.node] ??= {})[name] = gridded.observable;
    if (gridded.dropped.length > 0) notes.push(`${record.trace}: the record${gridded.dropped.length > 1 ? 's' : ''} at step ${gridded.dropped.join(', ')} (off the every-${record.probe.every} grid: the relaxation ended there) dropped from NIRData (one dt per observable); traces.npz keeps it`);
  }
  if (Object.keys(data).length === 0 && requireTraces) throw new SpecError('<run-folder>', `no trace of ${runDir} belongs to a node of the ${system.kind} graph:\n  ${notes.join('\n  ')}`);
  return { data, notes };
}

export type { GraphData };

/**
 * Spike rasters of the spiking emulation as NIRData EventData, keyed by the nodes of the spiking NIR graph
 * (the input encoder and every population keep their names there): per node and sample, the index of
 * every neuron that spiked and its time t·dt for emulation step t = 1…steps (dt = 1, the graph's
 * metadata), padded with −1 / +inf as NIRData's EventData is; t_max = steps·dt.
 */
export function spikeRasterEvents(network: SpikingNetwork, inputs: Float32Array, count: number, steps: number): Record<string, Events> {
  const names = [network.inputName, ...network.populations.map((p) => p.name)];
  const sizes = new Map<string, number>([[network.inputName, network.inputSize], ...network.populations.map((p) => [p.name, p.size] as [string, number])]);
  const lists = new Map(names.map((n) => [n, Array.from({ length: count }, () => ({ idx: [] as number[], time: [] as number[] }))]));
  const engine = tfjsEngine();
  const onStep = (t: number, spikes: ReadonlyMap<string, Float32Array>) => {
    for (const name of names) {
      const s = spikes.get(name)!;
      const size = sizes.get(name)!;
      const perSample = lists.get(name)!;
      for (let b = 0; b < count; b++) {
        for (let i = 0; i < size; i++) {
          if (s[b * size + i] !== 0) {
            perSample[b]!.idx.push(i);
            perSample[b]!.time.push(t);
          }
        }
      }
    }
  };
  try {
    engine.runBatch(network, inputs.subarray(0, count * network.inputSize), count, count, steps, [steps], onStep);
  } finally {
    engine.dispose();
  }
  const out: Record<string, Events> = {};
  for (const name of names) {
    const perSample = lists.get(name)!;
    const width = Math.max(1, ...perSample.map((l) => l.idx.length));
    const idx = new BigInt64Array(count * width).fill(-1n);
    const time = new Float64Array(count * width).fill(Number.POSITIVE_INFINITY);
    perSample.forEach((l, b) => l.idx.forEach((v, k) => {
      idx[b * width + k] = BigInt(v);
      time[b * width + k] = l.time[k]!;
    }));
    out[name] = { kind: 'events', idx, time, shape: [count, width], neurons: sizes.get(name)!, tMax: steps };
  }
  return out;
}
