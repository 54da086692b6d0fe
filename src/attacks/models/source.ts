/**
 * Where a classifier comes from: a sim spec (system, relaxation, data, job options) and, when the model was
 * trained, the parameters a training run saved with `saveModel`. Built by the CLI from a spec file or a run
 * folder; the family adapters in this folder turn it into a DynamicsClassifier.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import { createRegistry } from '../../core/registry.js';
import type { Split } from '../../data/index.js';
import type { DynamicsClassifier } from '../classifier.js';

export interface ModelSource {
  /** Where it came from (a spec file or a run folder), for messages. */
  readonly origin: string;
  readonly system: { readonly kind: string } & Readonly<Record<string, unknown>>;
  readonly run: {
    readonly integrator?: string;
    readonly dt: number;
    readonly maxSteps: number;
    readonly converge?: { readonly tolerance: number };
    readonly checkEvery?: number;
  };
  readonly job?: { readonly kind: string } & Readonly<Record<string, unknown>>;
  readonly data: Split;
  /** Trained parameters (from a run folder), if any. */
  readonly trained?: {
    readonly params: Record<string, tf.Tensor>;
    readonly trainedBy: string;
    readonly meta?: Readonly<Record<string, unknown>>;
  };
}

export interface ClassifierAdapter {
  readonly kind: string;
  readonly description: string;
  /** Builds the classifier; takes ownership of `source.trained.params`. */
  create(source: ModelSource): DynamicsClassifier;
}

/** Adapters by system kind. */
export const classifierAdapters = createRegistry<ClassifierAdapter>('classifier adapter (system kind)');

export function classifierFor(source: ModelSource): DynamicsClassifier {
  if (!classifierAdapters.has(source.system.kind)) {
    throw new SpecError(
      'system.kind',
      `${source.origin}: no attack adapter for system ${JSON.stringify(source.system.kind)}; attackable kinds: ${classifierAdapters.names().join(', ')}`,
    );
  }
  return classifierAdapters.get(source.system.kind).create(source);
}
