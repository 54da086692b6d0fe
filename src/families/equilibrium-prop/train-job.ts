/**
 * `ep-train`: trains a layered energy network by equilibrium propagation (or, with `rule: "bptt"`, by
 * backpropagation through its free phase), evaluates it after every epoch, and saves the trained model.
 * Resumable: an interrupted run continues from its last epoch with `--resume` (see runs/checkpoints.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { SpecError } from '../../base/errors.js';
import { openCheckpoints } from '../../runs/checkpoints.js';
import { saveModel } from '../../runs/model-store.js';
import { buildNetwork, checkEpSpec, describeEpoch, epTrainingFields, evaluationSettling, settlingSummary, trainMethod, traceTrained, type EpTrainingOptions, type Method } from './training.js';
import type { JobContext, JobEntry, Metrics } from '../family.js';
import { renderFigureSvg } from '../../runs/plot/svg.js';
import { learningCurves } from '../../runs/plot/run-figures.js';

export const epTrainOptions = z.strictObject({
  rule: z.enum(['ep', 'bptt']).default('ep').describe('equilibrium propagation, or BPTT through the T1 free steps'),
  ...epTrainingFields,
});
type Options = EpTrainingOptions & { readonly rule: Method };

/** What a model's user needs besides its tensors. */
export function modelMeta(context: JobContext<EpTrainingOptions>, layout: string, method: Method): Record<string, unknown> {
  return { ...context.spec.system, freeSteps: context.spec.run.maxSteps, inputLayout: layout, classNames: context.data.train.classNames, trainedOn: context.data.train.name, method };
}

async function run(context: JobContext<Options>): Promise<Metrics> {
  const { options, folder } = context;
  const network = buildNetwork(context);
  const checkpoints = openCheckpoints(folder.destination, context.spec, context.resume ?? false);
  const init = network.initParams(context.rng.split('init'));
  const outcome = await (async () => {
    try {
      return await trainMethod(context, network, options.rule, init, checkpoints, (record) => context.say(describeEpoch(record)));
    } finally {
      tf.dispose(Object.values(init));
    }
  })();
  for (const record of outcome.history) folder.appendMetrics(record);
  const curves = learningCurves(outcome.history, `${network.kind} trained by ${options.rule.toUpperCase()} on ${context.data.train.name}`);
  if (curves) folder.writeText('learning-curve.svg', renderFigureSvg(curves));
  saveModel(folder, { system: context.spec.system, trainedBy: options.rule === 'ep' ? 'equilibrium-propagation' : 'bptt', meta: modelMeta(context, network.layout, options.rule) }, outcome.params);
  let settling: Record<string, unknown>;
  try {
    traceTrained(context, network, outcome.params, options.rule);
    settling = settlingSummary(context, evaluationSettling(context, network, outcome.params));
  } finally {
    tf.dispose(Object.values(outcome.params));
  }
  // Cleared only once the run folder is in place: an interrupt before that keeps what --resume needs.
  folder.afterCommit(() => checkpoints.clear());
  const last = outcome.history[outcome.history.length - 1]!;
  return {
    test_accuracy: last.test_accuracy,
    train_accuracy: last.train_accuracy,
    best_test_accuracy: Math.max(...outcome.history.map((r) => r.test_accuracy)),
    train_seconds: Number(outcome.history.reduce((s, r) => s + r.seconds, 0).toFixed(3)),
    peak_tensor_bytes: Math.max(...outcome.history.map((r) => r.peak_tensor_bytes)),
    peak_rss_bytes: Math.max(...outcome.history.map((r) => r.peak_rss_bytes)),
    epochs: outcome.history.length,
    rule: options.rule,
    ...settling,
  };
}

export const epTrain: JobEntry<Options> = {
  kind: 'ep-train',
  description: 'train a layered energy network by equilibrium propagation (or BPTT) and save it',
  options: epTrainOptions,
  systems: ['equilibrium-prop', 'equilibrium-prop-conv'],
  traces: 'yes',
  check: (spec, system, data) => {
    const job = spec.job as unknown as Partial<Options>;
    if ((job.rule ?? 'ep') === 'ep' && job.surrogateGradient !== undefined && job.surrogateGradient !== 'exact') {
      throw new SpecError('job.surrogateGradient', "equilibrium propagation takes no derivative of ρ; a straight-through surrogate is for rule 'bptt': remove it or set rule to 'bptt'");
    }
    checkEpSpec(spec, system, data);
  },
  run,
};
