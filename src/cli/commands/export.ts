import fs from 'node:fs';
import path from 'node:path';
import { SpecError } from '../../base/errors.js';
import { decodeNpy, type NpyData } from '../../export/npy.js';
import { encodeNpz, type NpzMember } from '../../export/npz.js';
import { nirMappers } from '../../export/nir-mapping.js';
import { spikingNetworkToNir } from '../../hardware/spiking-nir.js';
import { writeNir } from '../../export/nir.js';
import { writeNirData, type GraphData } from '../../export/nirdata.js';
import { loadModelSource, loadTrainedNetwork } from '../../app/model-source.js';
import { loadProfile } from '../../hardware/profiles.js';
import { toSpikingNetwork } from '../../hardware/quantize.js';
import { writeFileAtomic } from '../../runs/atomic-write.js';
import { prepareOutputFile } from '../../runs/output-path.js';
import { useBackend } from '../../tensor/index.js';

export interface ExportOptions {
  readonly format: string;
  readonly as?: string;
  readonly profile?: string;
  readonly out?: string;
}

const FORMATS = ['nir', 'nirdata', 'npz'];

/** The run folder's recorded traces (traces/*.npy) and model parameters (model/*.npy). */
function recordedArrays(runDir: string): Record<string, { data: NpyData; shape: number[] }> {
  const out: Record<string, { data: NpyData; shape: number[] }> = {};
  for (const sub of ['traces', 'model']) {
    const dir = path.join(runDir, sub);
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.npy')).sort()) {
      const npy = decodeNpy(fs.readFileSync(path.join(dir, f)));
      out[`${sub}/${f.replace(/\.npy$/, '')}`] = { data: npy.data, shape: npy.shape };
    }
  }
  return out;
}

/** `neurodyn export <run-folder> --format nir|nirdata|npz`. */
export async function exportCommand(target: string, options: ExportOptions): Promise<void> {
  if (!FORMATS.includes(options.format)) throw new SpecError('--format', `must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(options.format)}`);
  // --out is checked (and its missing parents created) before anything is loaded, like every command's output.
  if (options.out !== undefined) prepareOutputFile(options.out, '--out');
  // Loading a saved model makes tensors: a backend must be ready first (an npz export of a trained run failed here).
  await useBackend('wasm');
  const loaded = loadModelSource(target, undefined, '<run-folder>');
  if (loaded.source.trained) for (const t of Object.values(loaded.source.trained.params)) t.dispose();
  const source = { spec: loaded.spec, ...(loaded.runDir ? { runDir: loaded.runDir } : {}) };
  const kind = source.spec.system.kind;
  const base = source.runDir ?? '.';
  if (options.format === 'nir') {
    const form = options.as ?? 'rate';
    if (form !== 'rate' && form !== 'spiking') throw new SpecError('--as', `must be rate or spiking, got ${JSON.stringify(form)}`);
    const file = options.out ?? path.join(base, `${kind}-${form}.nir`);
    if (form === 'rate') {
      // Every registered family names what NIR cannot express; a family without a mapper is named too.
      const mapper = nirMappers.get(kind, 'system.kind');
      await writeNir(file, mapper({}, source.spec.system));
    } else {
      const { trained } = await loadTrainedNetwork(target, 1);
      try {
        const profile = options.profile ? loadProfile(options.profile) : undefined;
        const precision = profile ? { ...(profile.capacity.weightBits ? { weightBits: profile.capacity.weightBits.si } : {}), ...(profile.capacity.stateBits ? { stateBits: profile.capacity.stateBits.si } : {}) } : {};
        await writeNir(file, spikingNetworkToNir(toSpikingNetwork(trained.network, precision)));
      } finally {
        trained.dispose();
      }
    }
    process.stdout.write(`written: ${file}\n`);
    return;
  }
  if (!source.runDir) throw new SpecError('<run-folder>', `--format ${options.format} exports what a run recorded: pass a run folder, not a spec`);
  const arrays = recordedArrays(source.runDir);
  if (Object.keys(arrays).length === 0) throw new SpecError('<run-folder>', `${source.runDir} holds no traces/*.npy or model/*.npy to export; add probes to the spec`);
  if (options.format === 'npz') {
    const file = options.out ?? path.join(source.runDir, 'traces.npz');
    writeFileAtomic(file, encodeNpz(arrays as Record<string, NpzMember>));
    process.stdout.write(`written: ${file} (${Object.keys(arrays).join(', ')})\n`);
    return;
  }
  // NIRData: each recorded trace [steps, batch, neurons...] as TimeGriddedData (samples, steps, neurons).
  const data: Record<string, Record<string, GraphData[string][string]>> = {};
  for (const [name, a] of Object.entries(arrays)) {
    if (!name.startsWith('traces/')) continue;
    const [steps, ...rest] = a.shape;
    const samples = rest.length >= 2 ? rest[0]! : 1;
    const neurons = rest.length >= 2 ? rest.slice(1).reduce((x, y) => x * y, 1) : (rest[0] ?? 1);
    const grid = new Float32Array(samples * steps! * neurons);
    for (let t = 0; t < steps!; t++) for (let s = 0; s < samples; s++) for (let n = 0; n < neurons; n++) grid[(s * steps! + t) * neurons + n] = Number(a.data[(t * samples + s) * neurons + n]);
    const node = name.slice('traces/'.length).replace(/[^A-Za-z0-9_.-]/g, '_');
    (data[node] ??= {}).values = { kind: 'time-gridded', data: grid, shape: [samples, steps!, neurons], dt: source.spec.run.dt };
  }
  if (Object.keys(data).length === 0) throw new SpecError('<run-folder>', `${source.runDir} holds no traces/*.npy; add probes to the spec`);
  const file = options.out ?? path.join(source.runDir, 'traces.nirdata.h5');
  await writeNirData(file, data);
  process.stdout.write(`written: ${file} (${Object.keys(data).join(', ')})\n`);
}
