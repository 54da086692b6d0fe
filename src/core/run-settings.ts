/**
 * The `run` and `probes` sections of a spec, and the one function that turns a run section into the
 * options simulate() takes. Every consumer (jobs, the attack and corruption classifiers, the hardware
 * estimate, export) relaxes a model through `relaxationSettings`, so a model that converges on its energy
 * is attacked, priced and exported under the same criterion it was trained and evaluated with.
 */
import { z } from 'zod';
import { SpecError } from '../base/errors.js';
import { GRADIENT_MODE_SYNTAX, parseGradientMode, type GradientMode } from './gradient-mode.js';
import { integrators } from './integrators/index.js';
import type { Integrator } from './integrators/integrator.js';
import type { ConvergeCondition } from './simulate.js';

export const probeSchema = z.strictObject({
  name: z.string().min(1).optional().describe('trace name (default: the variable)'),
  variable: z.string().min(1).describe("a state variable of the system, 'energy' or 'readout'"),
  every: z.int().min(1).default(1).describe('record every n steps'),
  reduce: z.enum(['none', 'mean']).default('none').describe("'mean' averages over the batch"),
});
export type ProbeSettings = z.infer<typeof probeSchema>;

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
/** A validated run section (defaults filled in). */
export type RunSettings = z.infer<typeof runSchema>;
/** A run section as written (defaults may be left out). */
export type RunSettingsInput = z.input<typeof runSchema>;

/** What simulate() needs to relax a model the way its run section says. */
export interface RelaxationSettings {
  /** Undefined: simulate()'s default for the system (map for discrete, euler for continuous). */
  readonly integrator?: Integrator;
  readonly dt: number;
  readonly maxSteps: number;
  readonly converge?: ConvergeCondition;
  readonly checkEvery: number;
  readonly gradient: GradientMode;
}

/**
 * The relaxation a run section describes, as simulate() options. `path` prefixes the names in errors (a
 * spec says `run.integrator`; a library caller that built the settings itself passes '').
 */
export function relaxationSettings(written: RunSettingsInput, path = 'run'): RelaxationSettings {
  const at = (name: string) => (path ? `${path}.${name}` : name);
  const parsed = runSchema.safeParse(written);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SpecError(at(issue.path.join('.')), issue.message);
  }
  const run = parsed.data;
  return {
    ...(run.integrator !== undefined ? { integrator: integrators.get(run.integrator, at('integrator')) } : {}),
    dt: run.dt,
    maxSteps: run.maxSteps,
    ...(run.converge ? { converge: { tolerance: run.converge.tolerance, on: run.converge.on, minSteps: run.converge.minSteps } } : {}),
    checkEvery: run.checkEvery,
    gradient: parseGradientMode(run.gradient, at('gradient')),
  };
}
