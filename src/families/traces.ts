/**
 * How a job records the spec's probes: on its evaluation relaxation of the first `TRACE_EXAMPLES` test
 * examples, with the trained parameters and the same relaxation (system, integrator, h, steps, stop rule)
 * the job evaluates with. The relaxation of an example does not depend on the others in its batch, so
 * these records are exactly what the evaluation computed for those examples; only `reduce: "mean"`
 * averages over these examples rather than over the job's whole evaluation batch.
 *
 * Every job declares `traces: 'yes'` and calls `recordEvaluationTraces`, or declares `'no: <reason>'`, and
 * then a spec with probes is refused by the validator (spec/parse.ts), never silently ignored.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Integrator } from '../core/integrators/integrator.js';
import { throwIfDiverged } from '../core/solution.js';
import { simulate, type ConvergeCondition } from '../core/simulate.js';
import type { DynamicalSystem } from '../core/system.js';
import type { TensorTree } from '../core/tree.js';
import { subset, toTensors, type Dataset } from '../data/index.js';
import { writeTraces, type TraceRecord } from '../runs/trace-files.js';
import type { JobContext } from './family.js';

/** How many test examples a job's traces record (the first ones of the test set). */
export const TRACE_EXAMPLES = 16;

export interface TracedRelaxation<S extends TensorTree, P extends TensorTree, U extends TensorTree> {
  /** Which relaxation of the job, e.g. 'final', 'ep', 'cycles-2'; part of the file names. */
  readonly label: string;
  readonly system: DynamicalSystem<S, P, U>;
  readonly params: P;
  /** The system's input for the traced examples (not consumed). */
  readonly input: U;
  readonly settings: {
    readonly integrator?: Integrator;
    readonly dt?: number;
    readonly maxSteps: number;
    readonly converge?: ConvergeCondition;
    readonly checkEvery?: number;
    readonly state0?: S;
  };
  /** Test-set indices of the examples (the second axis of every trace with reduce 'none'). */
  readonly examples?: readonly number[];
  readonly labels?: readonly number[];
  readonly condition?: string;
}

/** Relaxes once with the spec's probes and writes the traces; does nothing when the spec has none. */
export function recordEvaluationTraces<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  context: Pick<JobContext<unknown>, 'spec' | 'folder'>,
  relaxation: TracedRelaxation<S, P, U>,
): TraceRecord[] {
  const probes = context.spec.probes;
  if (probes.length === 0) return [];
  const { settings } = relaxation;
  const solution = throwIfDiverged(
    simulate({
      system: relaxation.system,
      params: relaxation.params,
      input: relaxation.input,
      ...(settings.integrator ? { integrator: settings.integrator } : {}),
      dt: settings.dt ?? 1,
      maxSteps: settings.maxSteps,
      ...(settings.converge ? { converge: settings.converge } : {}),
      checkEvery: settings.checkEvery ?? 1,
      ...(settings.state0 ? { state0: settings.state0 } : {}),
      probes,
    }),
  );
  try {
    return writeTraces(context.folder, solution.traces, {
      label: relaxation.label,
      system: relaxation.system.kind,
      // A discrete map has no time step: its records are one step apart.
      dt: relaxation.system.time === 'discrete' ? 1 : (settings.dt ?? 1),
      probes,
      ...(relaxation.examples ? { examples: relaxation.examples } : {}),
      ...(relaxation.labels ? { labels: relaxation.labels } : {}),
      ...(relaxation.condition ? { condition: relaxation.condition } : {}),
    });
  } finally {
    solution.dispose();
  }
}

/** The first `count` (default TRACE_EXAMPLES) examples of `data` as tensors, with their indices and labels. */
export function traceExamples(data: Dataset, layout: 'flat' | 'nhwc', count = TRACE_EXAMPLES): { x: tf.Tensor; examples: number[]; labels: number[] } {
  const n = Math.min(count, data.count);
  const { x, y } = toTensors(subset(data, 0, n), { layout });
  const labels = Array.from(y.dataSync());
  y.dispose();
  return { x, examples: Array.from({ length: n }, (_, i) => i), labels };
}
