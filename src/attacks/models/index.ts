/**
 * Classifier adapters, one file per family; importing this module registers them all. Adding a family:
 * a file here that builds a DynamicsClassifier from a ModelSource (usually through relaxationClassifier)
 * and registers it under the system's kind, plus one import line below.
 */
import './hopfield.js';
import './equilibrium-prop.js';
import './lca.js';

export { classifierAdapters, classifierFor, type ClassifierAdapter, type ModelSource } from './source.js';
export { feedForwardClassifier, feedForwardLogits, type DenseLayer } from './feed-forward.js';
export { relaxationClassifier } from './relaxation-classifier.js';
