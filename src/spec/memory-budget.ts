/**
 * Oversized specs fail at validation, before anything is allocated: a width of 1e6, 1e8 dictionary
 * features, 1e9 cues or a probe over 1e9 steps would otherwise start, allocate until Node runs out of
 * memory, and die with a raw message. Each check estimates the float32 bytes of the one array that grows
 * with the field (a lower bound of what the run needs: optimizers, batches and gradients come on top),
 * and refuses above MEMORY_BUDGET_BYTES, naming the field, the estimate and the limit.
 *
 * Equilibrium propagation's widths are checked by its own job check (checkEpSize, the same budget).
 */
import { SpecError } from '../base/errors.js';
import type { DatasetShape } from '../data/registry.js';
import { TRACE_EXAMPLES } from '../families/traces.js';
import type { ResolvedSpec } from '../families/family.js';

/** The most bytes one array of a spec may need (2 GiB); what the checks below allow. */
export const MEMORY_BUDGET_BYTES = 2 ** 31;

const gib = (bytes: number) => `${(bytes / 2 ** 30).toPrecision(3)} GiB`;

function refuseOver(field: string, floats: number, what: string, remedy: string): SpecError | undefined {
  const bytes = 4 * floats;
  if (bytes <= MEMORY_BUDGET_BYTES) return undefined;
  return new SpecError(field, `${what}: ${floats.toExponential(2)} floats, an estimated ${gib(bytes)} in float32; at most ${gib(MEMORY_BUDGET_BYTES)} is allowed: ${remedy}`);
}

/** Every over-budget field of the spec (empty when it fits). `data` is the dataset's shape where it is known. */
export function memoryBudgetErrors(spec: ResolvedSpec, data: DatasetShape | undefined): SpecError[] {
  const found: (SpecError | undefined)[] = [];
  const system = spec.system as Record<string, unknown> & { kind: string };
  const job = spec.job as Record<string, unknown> & { kind: string };
  const inputSize = data ? data.height * data.width : undefined;

  // Fully connected predictive-coding nets: the weight matrices between consecutive widths.
  if ((system.kind === 'pc-network' || system.kind === 'pc-network-flow') && Array.isArray(system.layers) && inputSize !== undefined) {
    const sizes = [inputSize, ...(system.layers as number[])];
    let weights = 0;
    for (let i = 1; i < sizes.length; i++) weights += sizes[i - 1]! * sizes[i]! + sizes[i]!;
    found.push(refuseOver('system.layers', weights, `widths [${sizes.join(', ')}] need their weight matrices`, 'use smaller layers'));
  }
  // LCA's dictionary Φ is [input size × features].
  if (system.kind === 'lca' && typeof system.features === 'number' && inputSize !== undefined) {
    found.push(refuseOver('system.features', inputSize * system.features, `a dictionary of ${system.features} atoms of ${inputSize} values`, 'use fewer features'));
  }
  // Convolutional LCA: the dictionary [K × C × k × k] and one example's code maps [K × H/stride × W/stride].
  // (The spec is parsed: the options' defaults are filled in.)
  if (system.kind === 'lca-conv' && typeof system.features === 'number') {
    const { inputChannels: channels, kernelSize: kernel, stride } = system as unknown as { inputChannels: number; kernelSize: number; stride: number };
    found.push(refuseOver('system.features', system.features * channels * kernel * kernel, `a dictionary of ${system.features} atoms of ${channels}×${kernel}×${kernel}`, 'use fewer features or a smaller kernelSize'));
    if (data) {
      const positions = Math.ceil(data.height / stride) * Math.ceil(data.width / stride);
      found.push(refuseOver('system.features', system.features * positions, `one example's codes: ${system.features} maps of ${positions} positions`, 'use fewer features or a larger stride'));
    }
  }
  // Predify: each conv block and its decoder hold [c_{n−1} × c_n × k × k]; the first block's feature maps are
  // [c_1 × H × W] per example; the head's hidden layer sees the last block's flattened maps.
  if (system.kind === 'predify' && data) {
    const { channels, kernelSize: kernel, hidden } = system as unknown as { channels: number[]; kernelSize: number; hidden: number };
    let weights = 0;
    let previous = 1;
    for (const c of channels) { weights += 2 * previous * c * kernel * kernel; previous = c; }
    const side = (n: number) => Math.max(1, Math.floor(n / 2 ** channels.length));
    weights += previous * side(data.height) * side(data.width) * hidden;
    found.push(refuseOver('system.channels', weights, `conv blocks [${channels.join(', ')}] with ${kernel}×${kernel} kernels, their decoders and the head's ${hidden} hidden units`, 'use fewer channels or a smaller hidden layer'));
    found.push(refuseOver('system.channels', channels[0]! * data.height * data.width, `one example's first feature maps: ${channels[0]} × ${data.height} × ${data.width}`, 'use fewer channels in the first block'));
  }
  // Hopfield stores patterns of the input size in an [n × n] weight matrix and relaxes `cues` cues per noise level at once.
  if (system.kind === 'hopfield' && inputSize !== undefined) {
    found.push(refuseOver('data', inputSize * inputSize, `a Hopfield net over ${inputSize} pixels needs an ${inputSize}×${inputSize} weight matrix`, 'use smaller images'));
    if (typeof job.cues === 'number') found.push(refuseOver('job.cues', job.cues * inputSize, `${job.cues} cues of ${inputSize} values relaxed at once`, 'use fewer cues'));
  }
  // A probe records one sample after the initial state, one every `every` steps and the final state, for
  // each traced example (one row under reduce: "mean"), of at least one float each.
  const maxSteps = (spec.run as { maxSteps?: number }).maxSteps;
  if (typeof maxSteps === 'number') {
    spec.probes.forEach((p, i) => {
      const samples = Math.floor(maxSteps / (p.every ?? 1)) + 2;
      const rows = p.reduce === 'mean' ? 1 : TRACE_EXAMPLES;
      found.push(refuseOver(`probes[${i}].every`, samples * rows, `probe ${JSON.stringify(p.name ?? p.variable)} records ${samples.toExponential(2)} samples (run.maxSteps ${maxSteps} / every ${p.every ?? 1}) of ${rows} example${rows === 1 ? '' : 's'} and at least one float each`, 'record less often (a larger "every") or relax fewer steps'));
    });
  }
  return found.filter((e): e is SpecError => e !== undefined);
}
