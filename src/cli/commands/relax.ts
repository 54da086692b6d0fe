/**
 * `neurodyn relax <run-folder>`: writes a `relax` job spec for a trained run folder (its system, data and run
 * sections; the probes from --probe, else the run's own, else every variable of the system) and runs it,
 * so a trained EP net or LCANet is traced per example and exported with `neurodyn export`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpecError } from '../../base/errors.js';
import { executeRun } from '../../app/execute.js';
import { defaultRunFolder, numberList, positiveInteger } from '../../app/model-source.js';
import { systems } from '../../families/index.js';
import { loadSpecFile, validateSpec } from '../../spec/parse.js';

export interface RelaxOptions {
  readonly probe?: string[];
  readonly examples?: string;
  readonly count?: string;
  readonly corrupt?: string[];
  readonly attack?: string[];
  readonly clean?: boolean;
  readonly model?: string;
  readonly maxSteps?: string;
  readonly out?: string;
  readonly backend?: string;
  readonly seed?: number;
  readonly quiet?: boolean;
}

/** "layers.0" or "layers.0:10" (every 10 steps) → a probe. */
function parseProbe(text: string): { variable: string; every: number } {
  const [variable, every] = text.split(':');
  if (!variable) throw new SpecError('--probe', `expected <variable>[:<every>], got ${JSON.stringify(text)}`);
  return { variable, every: positiveInteger(every, '--probe', 1) };
}

/** "mnist-c/fog:2" → a corrupted condition (severity default 1). */
function parseCorruption(text: string) {
  const [corruption, severity] = text.split(':');
  return { kind: 'corrupted' as const, corruption: corruption!, severity: positiveInteger(severity, '--corrupt', 1) };
}

/** "pgd:0.1", "apgd-ce:0.1:l2", "pgd:0.1:linf:40" → an adversarial condition. */
function parseAttack(text: string) {
  const [attack, epsilon, norm, steps] = text.split(':');
  const eps = Number(epsilon);
  if (!attack || !(eps > 0)) throw new SpecError('--attack', `expected <attack>:<epsilon>[:<linf|l2>[:<steps>]], got ${JSON.stringify(text)}`);
  return { kind: 'adversarial' as const, attack, epsilon: eps, ...(norm ? { norm } : {}), ...(steps ? { steps: positiveInteger(steps, '--attack', 20) } : {}) };
}

export async function relaxCommand(runDir: string, options: RelaxOptions): Promise<void> {
  if (!fs.existsSync(runDir) || !fs.statSync(runDir).isDirectory()) throw new SpecError('<run-folder>', `${runDir} is not a folder; pass the run folder of a training run`);
  const trained = loadSpecFile(path.join(runDir, 'spec.json'));
  const { kind, ...systemOptions } = trained.system;
  const probes = options.probe?.length
    ? options.probe.map(parseProbe)
    : trained.probes.length
      ? trained.probes
      : systems.get(kind, 'system.kind').variables(systemOptions).map((variable) => ({ variable }));
  const conditions = [
    ...(options.clean === false ? [] : [{ kind: 'clean' as const }]),
    ...(options.corrupt ?? []).map(parseCorruption),
    ...(options.attack ?? []).map(parseAttack),
  ];
  if (conditions.length === 0) throw new SpecError('--no-clean', 'with --no-clean, name at least one --corrupt or --attack condition');
  const spec = validateSpec({
    name: `relax-${trained.name}`,
    seed: options.seed ?? trained.seed,
    backend: options.backend ?? trained.backend,
    data: trained.data,
    system: trained.system,
    run: { ...trained.run, ...(options.maxSteps ? { maxSteps: positiveInteger(options.maxSteps, '--max-steps', trained.run.maxSteps) } : {}) },
    probes,
    job: {
      kind: 'relax',
      from: path.resolve(runDir),
      ...(options.model ? { model: options.model } : {}),
      ...(options.examples ? { examples: numberList(options.examples, '--examples').map((v) => positiveInteger(v + 1, '--examples', 1) - 1) } : {}),
      ...(options.count ? { count: positiveInteger(options.count, '--count', 8) } : {}),
      conditions,
    },
  });
  const { folder, summary } = await executeRun(spec, { out: options.out ?? defaultRunFolder(`relax-${trained.name}`), ...(options.quiet ? { quiet: true } : {}) });
  process.stdout.write(`${summary.spec} on ${summary.backend}: ${summary.seconds.toFixed(1)} s\nrun folder ${path.relative(process.cwd(), folder) || '.'}/ (export with: neurodyn export ${path.relative(process.cwd(), folder)} --format npz|nirdata)\n`);
}
