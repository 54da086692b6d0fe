import fs from 'node:fs';
import path from 'node:path';
import { SpecError } from '../../base/errors.js';
import { encodeNpz, type NpzMember } from '../../export/npz.js';
import { nirMappers } from '../../export/nir-mapping.js';
import { spikingNetworkToNir } from '../../hardware/spiking-nir.js';
import { writeNir } from '../../export/nir.js';
import { writeNirData } from '../../export/nirdata.js';
import { nirDataOf, spikeRasterEvents, traceArrays, weightArrays } from '../../app/trace-export.js';
import type { Events } from '../../export/nirdata.js';
import { hasTraceNodes } from '../../families/trace-nodes.js';
import { loadModelSource, loadTrainedNetwork } from '../../app/model-source.js';
import { loadProfile } from '../../hardware/profiles.js';
import { parseReset } from '../../hardware/quantize.js';
import { spikingNetworkOn } from '../../hardware/estimate.js';
import { describePrecision } from '../../hardware/emulate.js';
import { CALIBRATION_EXAMPLES } from '../../hardware/adapter.js';
import { supportTable } from '../../families/registry.js';
import { positiveInteger } from '../../app/model-source.js';
import { useBackend } from '../../tensor/index.js';
import { loadSpecFile } from '../../spec/parse.js';
import { writeFileAtomic } from '../../runs/atomic-write.js';
import { prepareOutputFile } from '../../runs/output-path.js';

export interface ExportOptions {
  readonly format: string;
  readonly as?: string;
  readonly profile?: string;
  readonly reset?: string;
  readonly calibrate?: string;
  readonly out?: string;
  /** For nirdata: also run the spiking emulation this many steps and export its spike rasters as EventData. */
  readonly spikes?: string;
  /** For --spikes: how many test images (default 16). */
  readonly count?: string;
}

const NIR_FORMS = ['spiking', 'rate'] as const;
type NirForm = (typeof NIR_FORMS)[number];

/**
 * The NIR forms a system kind can be exported in, and why not the others: `spiking` where its family
 * declares a spiking network with a NIR form, `rate` where its rate mapper maps (every family's refuses
 * today, naming what NIR lacks).
 */
export function nirForms(kind: string, system: Readonly<Record<string, unknown>>): { allowed: NirForm[]; refused: Partial<Record<NirForm, string>> } {
  const allowed: NirForm[] = [];
  const refused: Partial<Record<NirForm, string>> = {};
  const row = supportTable().find((r) => r.system === kind);
  if (row && row.support.nir === 'yes' && row.support.spiking === 'yes') allowed.push('spiking');
  else refused.spiking = row ? (row.support.spiking !== 'yes' ? row.support.spiking : row.support.nir).replace(/^no: /, '') : `no family registers ${kind}`;
  try {
    nirMappers.get(kind, 'system.kind')({}, system);
    allowed.push('rate');
  } catch (e) {
    refused.rate = e instanceof Error ? e.message : String(e);
  }
  return { allowed, refused };
}

const FORMATS = ['nir', 'nirdata', 'npz'];

/** `neurodyn export <run-folder> --format nir|nirdata|npz`. */
export async function exportCommand(target: string, options: ExportOptions): Promise<void> {
  if (!FORMATS.includes(options.format)) throw new SpecError('--format', `must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(options.format)}`);
  // --out is checked (and its missing parents created) before anything is loaded, like every command's output.
  if (options.out !== undefined) prepareOutputFile(options.out, '--out');
  // The spec's backend before the model: loading a run folder's parameters makes tensors.
  const specFile = fs.existsSync(target) && fs.statSync(target).isDirectory() ? path.join(target, 'spec.json') : target;
  await useBackend(fs.existsSync(specFile) ? loadSpecFile(specFile).backend : 'wasm', 'backend');
  const loaded = loadModelSource(target, undefined, '<run-folder>');
  if (loaded.source.trained) for (const t of Object.values(loaded.source.trained.params)) t.dispose();
  const source = { spec: loaded.spec, ...(loaded.runDir ? { runDir: loaded.runDir } : {}) };
  const kind = source.spec.system.kind;
  const base = source.runDir ?? '.';
  if (options.format === 'nir') {
    const { allowed, refused } = nirForms(kind, source.spec.system);
    const why = Object.entries(refused).map(([f, r]) => `${f}: ${r}`).join('; ');
    if (options.as !== undefined && !(NIR_FORMS as readonly string[]).includes(options.as)) throw new SpecError('--as', `must be ${NIR_FORMS.join(' or ')}, got ${JSON.stringify(options.as)}${allowed.length ? `; ${kind} exports as ${allowed.join(', ')}` : ''}`);
    const form = (options.as ?? allowed[0]) as NirForm | undefined;
    if (form === undefined) throw new SpecError('--format nir', `${kind} has no NIR form (${why})`);
    if (!allowed.includes(form)) throw new SpecError('--as', `${kind} cannot be exported as ${form} (${refused[form]}); allowed: ${allowed.length ? allowed.join(', ') : 'none'}`);
    const file = options.out ?? path.join(base, `${kind}-${form}.nir`);
    if (form === 'rate') {
      const mapper = nirMappers.get(kind, 'system.kind');
      await writeNir(file, mapper({}, source.spec.system));
      process.stdout.write(`written: ${file} (rate form)\n`);
      return;
    }
    const reset = parseReset(options.reset);
    const calibration = options.calibrate !== undefined ? positiveInteger(options.calibrate, '--calibrate', CALIBRATION_EXAMPLES) : undefined;
    const { trained } = await loadTrainedNetwork(target, 1, undefined, calibration);
    try {
      const profile = options.profile ? loadProfile(options.profile) : undefined;
      const spiking = spikingNetworkOn(trained, profile, reset);
      await writeNir(file, spikingNetworkToNir(spiking, trained.documentation));
      process.stdout.write(`written: ${file} (spiking form, reset ${reset}, ${describePrecision(spiking)}${profile ? ` of ${profile.id}` : ''})\ncalibration: ${trained.documentation.calibration}\n`);
    } finally {
      trained.dispose();
    }
    return;
  }
  if (!source.runDir) throw new SpecError('<run-folder>', `--format ${options.format} exports what a run recorded: pass a run folder, not a spec`);
  const runDir = source.runDir;
  if (options.format === 'npz') {
    const traces = traceArrays(runDir);
    const weights = weightArrays(runDir);
    if (Object.keys(traces).length === 0 && Object.keys(weights).length === 0) throw new SpecError('<run-folder>', `${runDir} holds no traces/*.npy and no model*/ to export; add probes to the spec`);
    if (options.out && Object.keys(traces).length > 0 && Object.keys(weights).length > 0) throw new SpecError('--out', 'this run folder has traces and weights, written to traces.npz and weights.npz beside each other; pass --out only with one of them, or leave it out');
    for (const [members, name] of [[traces, 'traces.npz'], [weights, 'weights.npz']] as const) {
      if (Object.keys(members).length === 0) continue;
      const file = options.out ?? path.join(runDir, name);
      writeFileAtomic(file, encodeNpz(members as Record<string, NpzMember>));
      process.stdout.write(`written: ${file} (${Object.keys(members).length} arrays: ${Object.keys(members).slice(0, 6).join(', ')}${Object.keys(members).length > 6 ? ', …' : ''})\n`);
    }
    return;
  }
  // NIRData: the traces keyed by the node names of the graph `export --format nir --as spiking` writes for this model.
  if (!hasTraceNodes(kind)) throw new SpecError('--format', `${kind} has no NIR graph, so its traces have no node names to be NIRData keys; export them with --format npz`);
  const job = source.spec.job as { kind: string; from?: string };
  const modelDir = fs.existsSync(path.join(runDir, 'model', 'model.json')) ? runDir : job.kind === 'relax' && job.from ? job.from : undefined;
  if (!modelDir) throw new SpecError('<run-folder>', `${runDir} holds no trained model (model/) to build the NIR graph the traces are keyed by`);
  const spikeSteps = options.spikes !== undefined ? positiveInteger(options.spikes, '--spikes', 1) : undefined;
  const count = positiveInteger(options.count, '--count', 16);
  const reset = parseReset(options.reset);
  const calibration = options.calibrate !== undefined ? positiveInteger(options.calibrate, '--calibrate', CALIBRATION_EXAMPLES) : undefined;
  // The same graph (calibration, reset, precision) `export --format nir --as spiking` writes, so the keys are its nodes.
  const { trained } = await loadTrainedNetwork(modelDir, spikeSteps ? count : 1, undefined, calibration);
  let graph;
  let rasters: Record<string, Events> | undefined;
  try {
    const profile = options.profile ? loadProfile(options.profile) : undefined;
    const spiking = spikingNetworkOn(trained, profile, reset);
    graph = spikingNetworkToNir(spiking, trained.documentation);
    if (spikeSteps) rasters = spikeRasterEvents(spiking, trained.inputs, trained.count, spikeSteps);
  } finally {
    trained.dispose();
  }
  const plan = nirDataOf(runDir, source.spec.system, graph, rasters === undefined);
  for (const [node, events] of Object.entries(rasters ?? {})) {
    if (!graph.nodes[node]) throw new Error(`internal error: the emulation's population ${node} is no node of the spiking NIR graph`);
    (plan.data[node] ??= {}).spikes = events;
  }
  if (rasters) plan.notes.push(`spikes: the spiking emulation's rasters (${spikeSteps} steps, dt = 1, ${Object.keys(rasters).length} nodes) of the first ${trained.count} test images, as EventData`);
  const file = options.out ?? path.join(runDir, 'traces.nirdata.h5');
  await writeNirData(file, plan.data);
  for (const note of plan.notes) process.stdout.write(`note: ${note}\n`);
  process.stdout.write(`written: ${file} (${Object.entries(plan.data).map(([node, o]) => `${node}: ${Object.keys(o).join(', ')}`).join('; ')})\n`);
}
