/**
 * The schema of `sims/*.json`. Specs are pure data; `build` turns a validated spec into runnable objects
 * through the registries. The schema is assembled from the registries (each system and job contributes its
 * own strict options object), so a new family or job extends the schema, the JSON Schema for editors and
 * the error messages without touching this file.
 */
import { z } from 'zod';
import { probeSchema, runSchema } from '../core/run-settings.js';
import { dataSchema, DEFAULT_DATASET_NAME } from '../data/index.js';
import '../families/index.js';
import { jobs, systems } from '../families/registry.js';
import { BACKEND_NAMES } from '../tensor/backend.js';

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

export type { ResolvedSpec } from '../families/family.js';
export { dataSchema, probeSchema, runSchema };

/** JSON Schema (draft 2020-12) for editors. */
export function simJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(simSpecSchema(), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
