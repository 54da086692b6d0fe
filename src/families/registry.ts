/**
 * The family registry and the registries it feeds. `registerFamily(family)` is the one call a family makes:
 * it checks the family's support table against its parts, then registers its systems, jobs, classifiers,
 * hardware adapters and NIR mappers in the shared registries, each of which refuses a name twice.
 */
import { createRegistry } from '../core/registry.js';
import { classifierAdapters } from '../attacks/models/source.js';
import { hardwareAdapters } from '../hardware/adapter.js';
import { nirMappers } from '../export/nir-mapping.js';
import { CAPABILITIES, type Capability, type Family, type JobEntry, type Support, type SupportRow, type SystemEntry } from './family.js';

export const families = createRegistry<Family>('family');
export const systems = createRegistry<SystemEntry & { readonly family: string }>('system kind');
export const jobs = createRegistry<JobEntry & { readonly family: string }>('job kind');

/** Capabilities whose 'yes' needs a part the family must supply, and which part. */
const PART_OF: Partial<Record<Capability, 'classifiers' | 'hardware' | 'nir'>> = {
  attack: 'classifiers',
  corrupt: 'classifiers',
  hardware: 'hardware',
  spiking: 'hardware',
};

function isSupport(value: unknown): value is Support {
  return value === 'yes' || (typeof value === 'string' && /^no: \S/.test(value));
}

/** Why `family` is inconsistent, or an empty list. */
export function familyProblems(family: Family): string[] {
  const problems: string[] = [];
  const kinds = family.systems.map((s) => s.kind);
  for (const kind of kinds) {
    const row = family.support[kind] as Partial<SupportRow> | undefined;
    if (!row) {
      problems.push(`system ${kind} has no support row`);
      continue;
    }
    for (const capability of CAPABILITIES) {
      const value = row[capability];
      if (value === undefined) problems.push(`${kind}: capability '${capability}' is not declared (say 'yes' or 'no: <reason>')`);
      else if (!isSupport(value)) problems.push(`${kind}: capability '${capability}' is ${JSON.stringify(value)}; expected 'yes' or 'no: <reason>'`);
      const part = PART_OF[capability];
      if (!part) continue;
      const has = family[part]?.[kind] !== undefined;
      if (value === 'yes' && !has) problems.push(`${kind}: '${capability}' is declared yes but the family supplies no ${part}.${kind}`);
      // A hardware network may be priced from the float model's counts without a spiking form (max-pool, routed feedback).
      const partialAllowed = capability === 'spiking';
      if (value !== 'yes' && value !== undefined && has && !partialAllowed) problems.push(`${kind}: the family supplies ${part}.${kind} but declares '${capability}' ${JSON.stringify(value)}`);
    }
    for (const extra of Object.keys(row)) if (!(CAPABILITIES as readonly string[]).includes(extra)) problems.push(`${kind}: unknown capability '${extra}'; known: ${CAPABILITIES.join(', ')}`);
  }
  for (const kind of Object.keys(family.support)) if (!kinds.includes(kind)) problems.push(`support row for ${kind}, which is not a system of the family`);
  for (const part of ['classifiers', 'hardware', 'nir'] as const) {
    for (const kind of Object.keys(family[part] ?? {})) if (!kinds.includes(kind)) problems.push(`${part}.${kind} names no system of the family`);
  }
  const nirYes = kinds.filter((k) => family.support[k]?.nir === 'yes');
  for (const kind of nirYes) {
    const spiking = family.support[kind]?.spiking === 'yes';
    if (family.nir?.[kind] === undefined && !spiking) problems.push(`${kind}: 'nir' is declared yes but there is neither a rate mapper nor a spiking emulation to export`);
  }
  for (const job of family.jobs) for (const kind of job.systems) if (!kinds.includes(kind)) problems.push(`job ${job.kind} drives ${kind}, which is not a system of the family`);
  for (const kind of kinds) {
    const recording = family.jobs.filter((j) => j.systems.includes(kind) && j.traces !== undefined && (typeof j.traces === 'function' || j.traces === 'yes'));
    if (family.support[kind]?.traces === 'yes' && recording.length === 0) problems.push(`${kind}: 'traces' is declared yes but none of the family's jobs records probes on it`);
    if (family.support[kind]?.traces?.startsWith('no') && recording.length > 0) problems.push(`${kind}: 'traces' is declared ${JSON.stringify(family.support[kind]!.traces)} but job ${recording[0]!.kind} records probes on it`);
  }
  return problems;
}

/** Registers everything `family` is; throws, naming each problem, if its declarations and parts disagree. */
export function registerFamily(family: Family): void {
  const problems = familyProblems(family);
  if (problems.length > 0) throw new Error(`family ${family.name} cannot be registered:\n  ${problems.join('\n  ')}`);
  families.register(family.name, family);
  for (const system of family.systems) systems.register(system.kind, { ...system, family: family.name });
  for (const job of family.jobs) jobs.register(job.kind, { ...job, family: family.name });
  for (const [kind, adapter] of Object.entries(family.classifiers ?? {})) classifierAdapters.register(kind, adapter);
  for (const [kind, adapter] of Object.entries(family.hardware ?? {})) hardwareAdapters.register(kind, adapter);
  for (const [kind, mapper] of Object.entries(family.nir ?? {})) nirMappers.register(kind, mapper);
}

/**
 * A job that belongs to no single family (it drives systems of several, as the similarity regularizer
 * trains any backprop model toward a target another family computes). It lives in src/families/jobs/ and
 * is registered after the families whose systems it names.
 */
export function registerJob(job: JobEntry): void {
  const unknown = job.systems.filter((kind) => !systems.has(kind));
  if (unknown.length > 0) throw new Error(`job ${job.kind} cannot be registered: it drives ${unknown.join(', ')}, which no registered family provides`);
  jobs.register(job.kind, { ...job, family: '(several)' });
}

export interface SupportTableRow {
  readonly family: string;
  readonly system: string;
  readonly support: SupportRow;
}

/** Every registered system with its declarations, family by family. */
export function supportTable(): SupportTableRow[] {
  return families.names().flatMap((name) => {
    const family = families.get(name);
    return family.systems.map((s) => ({ family: name, system: s.kind, support: family.support[s.kind]! }));
  });
}
