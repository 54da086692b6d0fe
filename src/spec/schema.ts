/**
 * The schema of `sims/*.json`. Specs are pure data; `build` turns a validated spec into runnable objects
 * through the registries. The schema is assembled from the registries (each system and job contributes its
 * own strict options object), so a new family or job extends the schema, the JSON Schema for editors and
 * the error messages without touching this file.
 */
import { z } from 'zod';
import { GRADIENT_MODE_SYNTAX, parseGradientMode } from '../core/gradient-mode.js';
import { integrators } from '../core/integrators/index.js';
import { jobs } from '../jobs/index.js';
import { systems } from '../systems/index.js';
// TEMPORARY (see the file): the CNN-F family's parts, until families register through registerFamily.
import '../families/cnn-f/legacy-registration.js';
import { BACKEND_NAMES } from '../tensor/backend.js';
import { DEFAULT_DATASET_NAME } from '../data/index.js';

export const probeSchema = z.strictObject({
  name: z.string().min(1).optional().describe('trace name (default: the variable)'),
  variable: z.string().min(1).describe("a state variable of the system, 'energy' or 'readout'"),
  every: z.int().min(1).default(1).describe('record every n steps'),
  reduce: z.enum(['none', 'mean']).default('none').describe("'mean' averages over the batch"),
});

export const runSchema = z.strictObject({
  integrator: z.string().optional().describe(`one of the registered integrators (${integrators.names().join(', ')}); default map for discrete systems, euler for continuous ones`),
  dt: z.number().positive().default(1).describe('step size'),
  maxSteps: z.int().min(1).describe('largest number of steps of one relaxation'),
  converge: z
    .strictObject({
      tolerance: z.number().positive(),
      on: z.enum(['state', 'energy']).default('state'),
      minSteps: z.int().min(1).default(1),
    })
    .optional()
    .describe('stop when the largest change per step falls below the tolerance'),
  checkEvery: z.int().min(1).default(1).describe('check for NaN/Inf and convergence every n steps'),
  gradient: z
    .string()
    .default('none')
    .refine((s) => {
      try {
        parseGradientMode(s);
        return true;
      } catch {
        return false;
      }
    }, `must be ${GRADIENT_MODE_SYNTAX}`)
    .describe('how gradients are taken through the relaxation'),
});

export const dataSchema = z.strictObject({
  name: z.string().default(DEFAULT_DATASET_NAME).describe('dataset: mnist-embedded, fashion-mnist or idx-folder'),
  dataDir: z.string().optional().describe('folder of MNIST-format IDX files'),
});

function unionOf(kinds: readonly { kind: string; options: z.ZodObject }[]) {
  const members = kinds.map((k) => k.options.extend({ kind: z.literal(k.kind) }));
  return members.length === 1 ? members[0]! : z.discriminatedUnion('kind', members as unknown as [z.ZodObject, z.ZodObject, ...z.ZodObject[]]);
}

/** The whole spec schema, built from what is registered now. */
export function simSpecSchema() {
  return z.strictObject({
    $schema: z.string().optional(),
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, - and _')
      .describe('run name; the default run folder is runs/<name>-<time>'),
    description: z.string().optional(),
    seed: z.int().min(0).default(0),
    backend: z.enum(BACKEND_NAMES).default('wasm'),
    data: dataSchema.default({ name: DEFAULT_DATASET_NAME }),
    system: unionOf(systems.names().map((n) => systems.get(n))),
    run: runSchema,
    probes: z.array(probeSchema).default([]),
    job: unionOf(jobs.names().map((n) => jobs.get(n))),
  });
}

export type ResolvedSpec = {
  readonly $schema?: string;
  readonly name: string;
  readonly description?: string;
  readonly seed: number;
  readonly backend: (typeof BACKEND_NAMES)[number];
  readonly data: z.infer<typeof dataSchema>;
  readonly system: { readonly kind: string } & Readonly<Record<string, unknown>>;
  readonly run: z.infer<typeof runSchema>;
  readonly probes: readonly z.infer<typeof probeSchema>[];
  readonly job: { readonly kind: string } & Readonly<Record<string, unknown>>;
};

/** JSON Schema (draft 2020-12) for editors. */
export function simJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(simSpecSchema(), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
