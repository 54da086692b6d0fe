import fs from 'node:fs';
import path from 'node:path';
import { SpecError } from '../../base/errors.js';
import { prepareOutputFile, writeOutputFile } from '../../runs/output-path.js';
import { loadTrainedNetwork } from '../../app/model-source.js';
import { DEFAULT_ENGINE, estimateOnProfiles } from '../../hardware/estimate.js';
import { listProfiles, loadProfile } from '../../hardware/profiles.js';
import type { EngineName } from '../../hardware/emulate.js';
import { CALIBRATION_EXAMPLES } from '../../hardware/adapter.js';
import { positiveInteger } from '../../app/model-source.js';
import { parseReset } from '../../hardware/quantize.js';
import { settlingNote, settlingRecord } from '../../core/settling.js';

export interface EnergyOptions {
  readonly profile: string[];
  readonly count: string;
  readonly emulate?: string;
  readonly engine?: string;
  readonly backend?: string;
  readonly reset?: string;
  readonly calibrate?: string;
  readonly out?: string;
}

const si = (v: number | null, unit: string) => (v === null ? 'n/a' : `${v.toExponential(3)} ${unit}`);

/** `neurodyn energy <run-folder|spec> --profile loihi2`: energy, latency, SOP/s and fit per inference. */
export async function energyCommand(target: string, options: EnergyOptions): Promise<void> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const count = Number(options.count);
  if (!(Number.isInteger(count) && count >= 1)) throw new SpecError('--count', `must be a positive integer, got ${options.count}`);
  const steps = options.emulate !== undefined ? Number(options.emulate) : undefined;
  if (steps !== undefined && !(Number.isInteger(steps) && steps >= 1)) throw new SpecError('--emulate', `must be a positive number of time steps, got ${options.emulate}`);
  const engine = (options.engine ?? DEFAULT_ENGINE) as EngineName;
  if (engine !== 'gpujs' && engine !== 'tfjs') throw new SpecError('--engine', `must be gpujs or tfjs, got ${JSON.stringify(options.engine)}`);
  if (options.out !== undefined) prepareOutputFile(options.out, '--out');
  const profiles = options.profile.includes('all') ? listProfiles() : options.profile.map((p) => loadProfile(p));
  const reset = parseReset(options.reset);
  const calibration = options.calibrate !== undefined ? positiveInteger(options.calibrate, '--calibrate', CALIBRATION_EXAMPLES) : undefined;
  const { trained, spec, runDir } = await loadTrainedNetwork(target, count, options.backend, calibration);
  // LCA's dictionary is scored by reconstruction quality (1 − ‖s − ŝ‖/‖s‖), not by classification.
  const reconstruction = spec.system.kind === 'lca';
  const scoreName = reconstruction ? 'reconstruction quality (1 − relative reconstruction error)' : 'accuracy';
  const scoreKey = reconstruction ? 'reconstruction_quality' : 'accuracy';
  try {
    const result = estimateOnProfiles(trained, profiles, steps !== undefined ? { steps, engine, reset } : undefined);
    out(`${trained.family}: ${trained.count} test inferences; float model ${scoreName} ${(100 * result.float.accuracy).toFixed(1)}% (${result.float.activity.origin})`);
    const settling = result.float.settling;
    const note = settling ? settlingNote(settling, steps) : undefined;
    if (note) out(`note: ${note}`);
    out(`calibration: ${trained.documentation.calibration}${steps !== undefined ? `; spiking neurons reset by ${reset === 'subtract' ? 'subtraction' : 'going to 0'}` : ''}`);
    for (const profile of profiles) {
      const r = result.perProfile[profile.id]!;
      const c = r.cost;
      out(`\n${profile.name} [${profile.id}] — counts from ${c.origin}${r.emulation ? `, ${reconstruction ? 'reconstruction quality' : 'accuracy'} ${(100 * r.accuracy).toFixed(1)}%` : ''}`);
      out(`  energy per inference: ${si(c.energy.totalJ, 'J')} (dynamic ${si(c.energy.dynamicJ, 'J')}, static ${si(c.energy.staticJ, 'J')}; ${(100 * c.energy.estimateShare).toFixed(0)}% from estimated figures)`);
      out(`  latency per inference: ${si(c.latencyS, 's')} (${c.latencyNote})`);
      out(`  synaptic operations: ${c.synapticOpsPerInference.toExponential(3)} per inference, ${c.synapticOpsPerSecond === null ? 'n/a' : c.synapticOpsPerSecond.toExponential(3)} per second`);
      out(`  fit: ${c.fit.fits ? 'fits' : 'does not fit'}; ${c.fit.coresNeeded} cores, ${c.fit.chipsNeeded} chip(s)${c.fit.reasons.length ? `; ${c.fit.reasons.join('; ')}` : ''}${c.fit.unchecked.length ? ` (unchecked: ${c.fit.unchecked.join('; ')})` : ''}`);
      for (const t of c.energy.terms) out(`    ${t.term.padEnd(48)} ${t.events.toExponential(3).padStart(10)} × ${t.field} = ${si(t.joules, 'J')} [${t.status}]`);
      out('  figures used:');
      for (const f of c.figures) out(`    ${f.field} = ${f.value} (${f.status}; ${f.citation}${f.where ? `, ${f.where}` : ''})`);
      for (const w of c.warnings) out(`  warning: ${w}`);
    }
    // Into the run folder, or for a spec runs/ beside the run folders; never the current folder.
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
    const file = options.out ?? (runDir ? path.join(runDir, `energy-${profiles.map((p) => p.id).join('+').slice(0, 80)}.json`) : path.join('runs', `energy-${spec.name}-${stamp}.json`));
    if (fs.existsSync(file) && options.out === undefined) out(`\n(replacing ${file})`);
    const written = writeOutputFile(file, `${JSON.stringify({ family: trained.family, count: trained.count, calibration: trained.documentation.calibration, ...(steps !== undefined ? { reset } : {}), float: { [scoreKey]: result.float.accuracy, origin: result.float.activity.origin, ...(settling ? { settling: settlingRecord(settling, steps) } : {}) }, profiles: result.perProfile }, null, 2)}\n`, '--out');
    out(`\nwritten: ${path.relative(process.cwd(), written) || written}`);
  } finally {
    trained.dispose();
  }
}
