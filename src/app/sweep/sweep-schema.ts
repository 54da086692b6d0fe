/**
 * The schema of `sims/*.sweep.json`: a base spec, the parameters to vary (addressed by JSON path, each a
 * grid of values or a distribution to sample), the seeds every configuration is run with, how
 * configurations are chosen (every point of the grid, or `samples` seeded random draws), the metric and
 * its goal, optional early stopping on a per-epoch metric, and a cap on the number of trials.
 */
import { z } from 'zod';

export const DISTRIBUTIONS = ['grid', 'uniform', 'log-uniform', 'integer', 'categorical'] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

/**
 * One parameter. `grid` and `categorical` take `values`; `uniform`, `log-uniform` and `integer` take
 * `min` and `max` (inclusive for integers). A grid sweep needs values; a random sweep draws a `grid`
 * parameter like a categorical one.
 */
export const parameterSchema = z
  .strictObject({
    distribution: z.enum(DISTRIBUTIONS).default('grid').describe('grid (the listed values), uniform, log-uniform, integer (inclusive bounds) or categorical'),
    values: z.array(z.json()).min(1).optional().describe('for grid and categorical: the values, any JSON'),
    min: z.number().optional().describe('for uniform, log-uniform and integer: the lower bound'),
    max: z.number().optional().describe('for uniform, log-uniform and integer: the upper bound'),
  })
  .superRefine((p, ctx) => {
    const needsValues = p.distribution === 'grid' || p.distribution === 'categorical';
    if (needsValues) {
      if (p.values === undefined) ctx.addIssue({ code: 'custom', path: ['values'], message: `a ${p.distribution} parameter lists its values` });
      for (const key of ['min', 'max'] as const) if (p[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `a ${p.distribution} parameter has values, not ${key}` });
      return;
    }
    if (p.values !== undefined) ctx.addIssue({ code: 'custom', path: ['values'], message: `a ${p.distribution} parameter has min and max, not values (use "categorical" to draw from a list)` });
    for (const key of ['min', 'max'] as const) if (p[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `a ${p.distribution} parameter needs ${key}` });
    if (p.min === undefined || p.max === undefined) return;
    if (!(p.max > p.min)) ctx.addIssue({ code: 'custom', path: ['max'], message: `must be greater than min (${p.min})` });
    if (p.distribution === 'log-uniform' && !(p.min > 0)) ctx.addIssue({ code: 'custom', path: ['min'], message: 'a log-uniform parameter needs min > 0' });
    if (p.distribution === 'integer') for (const key of ['min', 'max'] as const) if (!Number.isInteger(p[key])) ctx.addIssue({ code: 'custom', path: [key], message: 'an integer parameter has integer bounds' });
  });

export type Parameter = z.infer<typeof parameterSchema>;

const goal = z.enum(['maximize', 'minimize']);

export const earlyStoppingSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('median').describe('median stopping rule (Golovin et al. 2017)'),
    metric: z.string().min(1).optional().describe('per-epoch metric (a key of the epoch records); default: metric.name'),
    gracePeriod: z.int().min(1).default(1).describe('epochs a trial runs before it can be stopped'),
    minTrials: z.int().min(1).default(3).describe('other trials that must have reached the same epoch before comparing'),
  }),
  z.strictObject({
    kind: z.literal('asha').describe('asynchronous successive halving (Li et al. 2020), as a stopping rule'),
    metric: z.string().min(1).optional().describe('per-epoch metric (a key of the epoch records); default: metric.name'),
    minEpochs: z.int().min(1).default(1).describe('epoch of the first rung'),
    maxEpochs: z.int().min(1).describe('epochs of a full trial; rungs are minEpochs·η^k below it'),
    reductionFactor: z.int().min(2).default(3).describe('η: a trial continues past a rung only in the top 1/η there'),
  }),
]);

export type EarlyStopping = z.infer<typeof earlyStoppingSchema>;

export const sweepSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, - and _')
      .describe('sweep name; the default sweep folder is sweeps/<name>-<time>'),
    description: z.string().optional(),
    base: z.union([z.string().min(1), z.record(z.string(), z.json())]).describe('the base spec: a path relative to this file, or the spec itself'),
    method: z.enum(['grid', 'random']).default('grid').describe('grid: every combination of the values; random: `samples` seeded draws'),
    seed: z.int().min(0).default(0).describe('seed of the random sampler (recorded in the sweep folder)'),
    samples: z.int().min(1).optional().describe('random: how many configurations to draw'),
    parameters: z.record(z.string(), parameterSchema).describe('JSON path in the base spec → values or distribution'),
    seeds: z.array(z.int().min(0)).min(1).default([0]).describe("every configuration runs once per seed (the spec's seed)"),
    metric: z.strictObject({
      name: z.string().min(1).describe("a key of the trial's summary metrics (summary.json), e.g. test_accuracy"),
      goal,
    }),
    earlyStopping: earlyStoppingSchema.optional(),
    runCap: z.int().min(1).optional().describe('at most this many trials'),
  })
  .superRefine((s, ctx) => {
    if (s.method === 'random' && s.samples === undefined) ctx.addIssue({ code: 'custom', path: ['samples'], message: 'a random sweep needs samples (how many configurations to draw)' });
    if (s.method === 'grid' && s.samples !== undefined) ctx.addIssue({ code: 'custom', path: ['samples'], message: 'a grid sweep runs every combination; samples is for method "random"' });
    if (s.method === 'grid') {
      for (const [path, p] of Object.entries(s.parameters)) {
        if (p.distribution !== 'grid' && p.distribution !== 'categorical') ctx.addIssue({ code: 'custom', path: ['parameters', path, 'distribution'], message: `a grid sweep needs values; a ${p.distribution} distribution is sampled by method "random"` });
      }
    }
    if (new Set(s.seeds).size !== s.seeds.length) ctx.addIssue({ code: 'custom', path: ['seeds'], message: 'seeds repeat; list each seed once' });
  });

export type SweepSpec = z.infer<typeof sweepSchema>;

/** The JSON Schema of sweep files, for editors (`neurodyn schema --sweep`). */
export function sweepJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(sweepSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
