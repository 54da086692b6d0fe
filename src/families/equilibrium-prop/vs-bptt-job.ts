/**
 * `ep-vs-bptt`: the comparison of Ernoult et al. 2019 (`--benchmark`): the same network trained from the
 * same initialisation, on the same data in the same order, with the same optimizer, once by equilibrium
 * propagation and once by BPTT through its T1 free steps; only the update differs. Per epoch and method,
 * metrics.jsonl has the train and test accuracy, wall seconds and peak memory; the summary has
 * `ep_test_accuracy`, `bptt_test_accuracy`, `ep_seconds`, `bptt_seconds`; `learning-curves.svg` shows both.
 * The EP model is saved as `model/`, the BPTT one as `model-bptt/`. Resumable with `--resume`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { openCheckpoints } from '../../runs/checkpoints.js';
import { saveModel } from '../../runs/model-store.js';
import { modelMeta } from './train-job.js';
import { buildNetwork, checkEpSpec, describeEpoch, epTrainingFields, evaluationSettling, settlingSummary, trainMethod, traceTrained, type EpochRecord, type EpTrainingOptions, type Method } from './training.js';
import type { JobContext, JobEntry, Metrics } from '../family.js';
import { renderFigureSvg } from '../../runs/plot/svg.js';
import { learningCurves } from '../../runs/plot/run-figures.js';

export const epVsBpttOptions = z.strictObject(epTrainingFields);

async function run(context: JobContext<EpTrainingOptions>): Promise<Metrics> {
  const { folder } = context;
  const network = buildNetwork(context);
  const checkpoints = openCheckpoints(folder.destination, context.spec, context.resume ?? false);
  const init = network.initParams(context.rng.split('init'));
  const histories: Record<Method, readonly EpochRecord[]> = { ep: [], bptt: [] };
  // Per trained model: whether its evaluation relaxation settles in one step (the summary's <method>_settled_* keys).
  const settling: Record<string, unknown> = {};
  try {
    for (const method of ['ep', 'bptt'] as const) {
      const outcome = await trainMethod(context, network, method, init, checkpoints, (record) => context.say(describeEpoch(record)));
      histories[method] = outcome.history;
      saveModel(folder, { system: context.spec.system, trainedBy: method === 'ep' ? 'equilibrium-propagation' : 'bptt', meta: modelMeta(context, network.layout, method) }, outcome.params, method === 'ep' ? 'model' : 'model-bptt');
      try {
        traceTrained(context, network, outcome.params, method);
        const fields = settlingSummary({ say: (line) => context.say(`${method.toUpperCase()} model: ${line}`) }, evaluationSettling(context, network, outcome.params));
        for (const [key, value] of Object.entries(fields)) settling[`${method}_${key}`] = value;
      } finally {
        tf.dispose(Object.values(outcome.params));
      }
    }
  } finally {
    tf.dispose(Object.values(init));
  }
  for (const method of ['ep', 'bptt'] as const) for (const record of histories[method]) folder.appendMetrics(record);
  const curves = learningCurves([...histories.ep, ...histories.bptt], `EP vs BPTT: ${context.spec.system.kind} on ${context.data.train.name}`);
  if (curves) folder.writeText('learning-curves.svg', renderFigureSvg(curves));
  // Cleared only once the run folder is in place: an interrupt before that keeps what --resume needs.
  folder.afterCommit(() => checkpoints.clear());
  const last = (m: Method) => histories[m][histories[m].length - 1]!;
  const seconds = (m: Method) => Number(histories[m].reduce((s, r) => s + r.seconds, 0).toFixed(3));
  const peak = (m: Method, key: 'peak_tensor_bytes' | 'peak_rss_bytes') => Math.max(...histories[m].map((r) => r[key]));
  context.say(`EP test ${(100 * last('ep').test_accuracy).toFixed(2)}%, BPTT test ${(100 * last('bptt').test_accuracy).toFixed(2)}%`);
  return {
    ep_test_accuracy: last('ep').test_accuracy,
    bptt_test_accuracy: last('bptt').test_accuracy,
    ep_train_accuracy: last('ep').train_accuracy,
    bptt_train_accuracy: last('bptt').train_accuracy,
    ep_seconds: seconds('ep'),
    bptt_seconds: seconds('bptt'),
    ep_peak_tensor_bytes: peak('ep', 'peak_tensor_bytes'),
    bptt_peak_tensor_bytes: peak('bptt', 'peak_tensor_bytes'),
    ep_peak_rss_bytes: peak('ep', 'peak_rss_bytes'),
    bptt_peak_rss_bytes: peak('bptt', 'peak_rss_bytes'),
    test_accuracy_gap_points: Number((100 * (last('bptt').test_accuracy - last('ep').test_accuracy)).toFixed(3)),
    epochs: context.options.epochs,
    ...settling,
  };
}

export const epVsBptt: JobEntry<EpTrainingOptions> = {
  kind: 'ep-vs-bptt',
  description: 'train the same energy network by EP and by BPTT from the same initialisation and compare',
  options: epVsBpttOptions,
  systems: ['equilibrium-prop', 'equilibrium-prop-conv'],
  traces: 'yes',
  check: checkEpSpec,
  run,
};
