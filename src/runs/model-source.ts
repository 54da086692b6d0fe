/**
 * A model as the commands that take `<spec-or-run>` see it: the spec's system, run, job and data sections
 * and, when it was trained, the parameters its run saved with `saveModel`. `app/model-source.ts` loads one
 * from a spec file or a run folder; the family adapters turn it into a classifier or a hardware network.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { RunSettingsInput } from '../core/run-settings.js';
import type { Split } from '../data/index.js';

export interface TrainedParameters {
  readonly params: Record<string, tf.Tensor>;
  /** What produced them, e.g. 'equilibrium-propagation', 'backprop', 'lca-hebbian'. */
  readonly trainedBy: string;
  readonly meta?: Readonly<Record<string, unknown>>;
}

export interface ModelSource {
  /** Where it came from (a spec file or a run folder), for messages. */
  readonly origin: string;
  readonly system: { readonly kind: string } & Readonly<Record<string, unknown>>;
  readonly run: RunSettingsInput;
  readonly job?: { readonly kind: string } & Readonly<Record<string, unknown>>;
  readonly data: Split;
  /** Trained parameters (from a run folder), if any. Whoever builds from the source takes ownership. */
  readonly trained?: TrainedParameters;
}
