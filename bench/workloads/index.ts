/** The registry of benchmark workloads, in the order of WORKLOADS.md and torch_reference.py. */
import type { Workload } from '../types.js';
import { lcaConv } from './lca_conv.js';
import { lcaFc } from './lca_fc.js';
import { epFc } from './ep_fc.js';
import { epConv } from './ep_conv.js';
import { bpttEpFc } from './bptt_ep_fc.js';

export const WORKLOADS: readonly Workload[] = [lcaConv, lcaFc, epFc, epConv, bpttEpFc];

export function workloadIds(): string[] {
  return WORKLOADS.map((w) => w.id);
}
