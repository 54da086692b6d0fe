/**
 * Hardware profiles: what a target (a neuromorphic chip, a CPU, a GPU) costs per event and what it can
 * hold. A profile is data (`hardware-profiles/<id>.json`), validated by the zod schema below; the same
 * schema is exported as JSON Schema (`hardware-profiles/hardware-profile.schema.json`) for editors. Every
 * figure is a Quantity (number + unit + status + source, see quantity.ts).
 *
 * The figures a cost model reads:
 * - energy per event: a binary synaptic operation (one spike reaching one synapse, an accumulate), a
 *   graded synaptic operation (a multi-bit payload, Loihi 2's graded spikes), a multiply-accumulate (dense
 *   devices), an active and an idle neuron update, a spike sent within a core and per mesh hop, a learning
 *   update; static power per chip;
 * - time per event and the wall time of one algorithmic time step;
 * - capacity: cores per chip, neurons and synapses per core, fan-in and fan-out, weight and state bits.
 *
 * `energyModel` says how events are priced: `event-driven-step` (a time-stepped chip: every mapped neuron
 * is updated every step, synapses only on spikes: Loihi, TrueNorth, SpiNNaker), `event-driven-async`
 * (neurons updated only on input events) or `dense` (every synapse every step, as a MAC: CPU, GPU).
 */
import { z } from 'zod';
import { SpecError } from '../base/errors.js';
import { toQuantity, type Dimension, type Quantity, type QuantityInput } from './quantity.js';

const quantitySchema = z.strictObject({
  value: z.union([z.string().min(1), z.number()]).describe('a quantity with a unit, e.g. "23.6 pJ"; a plain number for counts'),
  range: z.tuple([z.union([z.string(), z.number()]), z.union([z.string(), z.number()])]).optional().describe('published range [low, high]'),
  status: z.enum(['published', 'derived', 'estimate']).describe('published in the source, derived by arithmetic, or our estimate'),
  source: z.string().min(1).describe("a key of the profile's sources"),
  where: z.string().optional().describe('table, section or page of the source'),
  note: z.string().optional().describe('rationale of a derivation or estimate'),
});

/** Field name → the dimension its value must have. */
export const ENERGY_FIELDS = {
  synapticOp: 'energy',
  gradedSynapticOp: 'energy',
  mac: 'energy',
  neuronUpdate: 'energy',
  neuronUpdateIdle: 'energy',
  spikeLocal: 'energy',
  spikeHop: 'energy',
  learningUpdate: 'energy',
  staticPowerPerChip: 'power',
} as const satisfies Record<string, Dimension>;

export const TIMING_FIELDS = {
  synapticOp: 'time',
  neuronUpdate: 'time',
  spikeHop: 'time',
  mac: 'time',
  timestep: 'time',
} as const satisfies Record<string, Dimension>;

export const CAPACITY_FIELDS = {
  coresPerChip: 'count',
  neuronsPerCore: 'count',
  synapsesPerCore: 'count',
  memoryPerCore: 'bytes',
  fanIn: 'count',
  fanOut: 'count',
  weightBits: 'count',
  stateBits: 'count',
  maxChips: 'count',
} as const satisfies Record<string, Dimension>;

type Fields<T extends Record<string, Dimension>> = { [K in keyof T]?: Quantity };

function quantityGroup<T extends Record<string, Dimension>>(fields: T, what: string) {
  const shape = Object.fromEntries(Object.keys(fields).map((k) => [k, quantitySchema.optional()]));
  return z.strictObject(shape).describe(what);
}

export const profileFileSchema = z.strictObject({
  $schema: z.string().optional(),
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes').describe('what --profile names'),
  name: z.string().min(1),
  vendor: z.string().min(1),
  year: z.int().min(1950).max(2100).optional(),
  kind: z.enum(['neuromorphic-digital', 'neuromorphic-mixed-signal', 'cpu', 'gpu']),
  processNm: z.number().positive().optional(),
  energyModel: z.enum(['event-driven-step', 'event-driven-async', 'dense']),
  summary: z.string().optional().describe('one line on what the profile represents and its main caveat'),
  sources: z.record(z.string(), z.string().min(1)).describe('citation key → full reference'),
  energy: quantityGroup(ENERGY_FIELDS, 'energy per event (J) and static power per chip (W)'),
  timing: quantityGroup(TIMING_FIELDS, 'time per event and wall time of one algorithmic step'),
  capacity: quantityGroup(CAPACITY_FIELDS, 'what one core and one chip can hold'),
  capabilities: z.strictObject({
    gradedSpikes: z.boolean().describe('spikes can carry a multi-bit payload'),
    gradedPayloadBits: z.int().min(0).optional(),
    onChipLearning: z.boolean(),
    recurrence: z.boolean(),
    neuronModels: z.array(z.string()).default([]),
    nirImport: z.string().optional().describe('which toolchain reads NIR for this target'),
  }),
});

export type ProfileFile = z.input<typeof profileFileSchema>;

export interface Profile {
  readonly id: string;
  readonly name: string;
  readonly vendor: string;
  readonly year?: number;
  readonly kind: ProfileFile['kind'];
  readonly energyModel: ProfileFile['energyModel'];
  readonly summary?: string;
  readonly sources: Readonly<Record<string, string>>;
  readonly energy: Fields<typeof ENERGY_FIELDS>;
  readonly timing: Fields<typeof TIMING_FIELDS>;
  readonly capacity: Fields<typeof CAPACITY_FIELDS>;
  readonly capabilities: z.output<typeof profileFileSchema>['capabilities'];
  /** Where it was read from. */
  readonly file: string;
}

function zodPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
}

/** Validates a parsed profile file and converts every figure to SI; errors name the file and the JSON path. */
export function parseProfile(raw: unknown, file: string): Profile {
  const result = profileFileSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new SpecError(`${file}: ${zodPath(issue.path) || '(root)'}`, issue.message);
  }
  const p = result.data;
  const convert = <T extends Record<string, Dimension>>(group: Record<string, QuantityInput | undefined>, fields: T, name: string): Fields<T> => {
    const out: Record<string, Quantity> = {};
    for (const [key, input] of Object.entries(group)) {
      if (!input) continue;
      const path = `${file}: ${name}.${key}`;
      if (!(input.source in p.sources)) throw new SpecError(`${path}.source`, `${JSON.stringify(input.source)} is not a key of sources (${Object.keys(p.sources).join(', ')})`);
      out[key] = toQuantity(input, fields[key]!, path);
      // A capacity of zero (or less) would price a network at Infinity cores; an unknown one is left out.
      if (name === 'capacity' && !(out[key]!.si > 0)) throw new SpecError(path, `a capacity must be positive, got ${JSON.stringify(input.value)}; leave the field out if it is not known`);
    }
    return out as Fields<T>;
  };
  return Object.freeze({
    id: p.id,
    name: p.name,
    vendor: p.vendor,
    ...(p.year !== undefined ? { year: p.year } : {}),
    kind: p.kind,
    energyModel: p.energyModel,
    ...(p.summary !== undefined ? { summary: p.summary } : {}),
    sources: p.sources,
    energy: convert(p.energy, ENERGY_FIELDS, 'energy'),
    timing: convert(p.timing, TIMING_FIELDS, 'timing'),
    capacity: convert(p.capacity, CAPACITY_FIELDS, 'capacity'),
    capabilities: p.capabilities,
    file,
  });
}

/** The JSON Schema of profile files, for editors (`hardware-profiles/hardware-profile.schema.json`). */
export function profileJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(profileFileSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>),
    title: 'neurodyn hardware profile',
  };
}
