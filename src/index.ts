/**
 * The public API of neurodyn as a library: one stable entry for every capability. The `tf` namespace is the
 * tfjs-core instance neurodyn computes with; use it (not a second copy of @tensorflow/tfjs-core installed
 * beside neurodyn, whose tensors this one does not know) to build inputs and read results.
 */
import * as tf from '@tensorflow/tfjs-core';
export { tf };

// Leaf and substrate.
export * from './base/errors.js';
export * from './base/rng.js';
export * from './tensor/index.js';
export * from './data/index.js';
export { CORRUPTIONS, corruptDataset, corruptionNames, getCorruption, selectCorruptions, type Corruption } from './data/corruptions.js';

// Core: systems, the one loop, integrators, probes, gradient modes, run settings.
export * from './core/gradient-mode.js';
export * from './core/integrators/index.js';
export * from './core/probes.js';
export * from './core/registry.js';
export * from './core/run-settings.js';
export * from './core/simulate.js';
export * from './core/solution.js';
export type * from './core/system.js';
export * from './core/tree.js';

// Learning: the rule interface, the train loop, optimizers, backprop.
export * from './learning/backprop.js';
export * from './learning/optimizers.js';
export type * from './learning/rule.js';
export * from './learning/train.js';

// Attacks: threat models, losses, attacks, the robustness protocol and its diagnostics.
export type { ClassifierRun, ClassifierRunRequest, DynamicsClassifier, Relaxation } from './attacks/classifier.js';
export { classifierAdapters, classifierFor, feedForwardClassifier, feedForwardLogits, relaxationClassifier, type ClassifierAdapter, type DenseLayer } from './attacks/models/index.js';
export { attackModel, STEP_WEIGHTINGS, type AttackModel, type GradientSettings, type StepWeighting } from './attacks/attack-model.js';
export { NORMS, checkThreat, insideThreat, parseNorm, project, type Norm, type ThreatModel } from './attacks/threat-model.js';
export { LOSS_KINDS, attackLoss, parseLossKind, type LossKind } from './attacks/losses.js';
export type { Attack, AttackRequest, AttackResult } from './attacks/attack.js';
export { fgsm, pgd, type FgsmOptions, type PgdOptions } from './attacks/pgd.js';
export { apgd, type ApgdOptions } from './attacks/apgd.js';
export { square, type SquareOptions } from './attacks/square.js';
export { spsa, type SpsaOptions } from './attacks/spsa.js';
export { transfer } from './attacks/transfer.js';
export { expectationOverTransformation } from './attacks/eot.js';
export { evaluateRobustness, type RobustnessReport, type RobustnessRequest } from './attacks/evaluate.js';
export { mcnemarExact, pairedComparison, pairedGainInterval, wilsonInterval, type PairedComparison } from './base/statistics.js';
export { formatMinimalPerturbation, minimalPerturbation, summarizeMinimalPerturbation, type MinimalPerturbationRequest, type MinimalPerturbationSummary } from './attacks/minimal-perturbation.js';
export { ExampleLedger, type ExampleOutcome } from './attacks/ledger.js';
export { compareExamples, readAdversarial, readExamples, writeExamples, type ExampleRow } from './attacks/per-example.js';
export { attackProgress, type AttackProgress } from './attacks/progress.js';
export { protocolWork, timeRelaxations, type Timing, type Work } from './attacks/cost.js';
export { corruptionAccuracy, type CorruptionResult } from './attacks/corruption-accuracy.js';
export { bpttImplicitCosine, gradientNormByHorizon, trajectory } from './attacks/diagnostics.js';
export { ATTACK_NAMES, buildAttacks, gradientMaskingSigns, maskingRemedy, runProtocol, type AttackBudget, type ProtocolReport, type ProtocolRequest } from './attacks/protocol.js';

// Hardware: profiles, counts, cost, spiking emulation, the estimate.
export { hardwareAdapters, type BuildRequest, type HardwareAdapter, type TrainedNetwork } from './hardware/adapter.js';
export { estimateCost, fitNetwork, type CostReport } from './hardware/cost.js';
export { neuroBenchMetrics, type ActivityRecord, type NeuroBenchMetrics } from './hardware/counts.js';
export { emulate, type EmulationResult, type EngineName } from './hardware/emulate.js';
export { buildTrainedNetwork, estimateOnProfiles, type ProfileEstimate } from './hardware/estimate.js';
export { checkNetwork, structureOf, type LayeredNetwork } from './hardware/network.js';
export { parseProfile, type Profile } from './hardware/profile.js';
export { listProfiles, loadProfile } from './hardware/profiles.js';
export { toSpikingNetwork, type SpikingNetwork } from './hardware/quantize.js';
export { spikingNetworkToNir } from './hardware/spiking-nir.js';

// Export: NIR graphs, NIRData traces, NumPy.
export { NIR_VERSION, readNir, writeNir, type NirGraph } from './export/nir.js';
export { nirMappers, UnmappableError, type NirMapper } from './export/nir-mapping.js';
export { spikesToEvents, writeNirData, type GraphData } from './export/nirdata.js';
export { decodeNpy, encodeNpy } from './export/npy.js';
export { decodeNpz, encodeNpz } from './export/npz.js';

// Run folders and models.
export { loadModel, saveModel } from './runs/model-store.js';
export type { ModelSource, TrainedParameters } from './runs/model-source.js';

// Families: the registry, the support table, and each family's systems and rules.
export * from './families/index.js';
export { hopfield, storePatterns, type HopfieldSystem } from './families/hopfield/system.js';
export { lca, type LcaSystem, type LcaOptions } from './families/lca/system.js';
export { lcaConv, type LcaConvSystem, type LcaConvOptions } from './families/lca/system-conv.js';
export { normalizeAtoms, randomDictionary, type LcaState, type LcaParams, type LcaInput } from './families/lca/system-common.js';
export { lcaEnergyGradientRule, lcaHebbianRule, unitNormAtoms } from './families/lca/dictionary-rules.js';
export { equilibriumProp, nudged, oneHotTargets, type EquilibriumPropOptions, type EquilibriumPropSystem } from './families/equilibrium-prop/system.js';
export { equilibriumPropConv, type EquilibriumPropConvOptions, type EquilibriumPropConvSystem } from './families/equilibrium-prop/system-conv.js';
export { equilibriumPropagation, type EquilibriumPropRuleOptions, type Nudging } from './families/equilibrium-prop/rule.js';
export { bpttThroughFreePhase } from './families/equilibrium-prop/bptt-rule.js';

// Specs and runs end to end.
export { loadSpecFile, validateSpec } from './spec/parse.js';
export { simJsonSchema } from './spec/schema.js';
export { executeRun } from './app/execute.js';
export { loadModelSource, loadTrainedNetwork } from './app/model-source.js';
