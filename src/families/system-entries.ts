/**
 * Every family's system entries (options and `create`) without their jobs, adapters or registries: what a
 * browser bundle may import (the live view builds systems in the page; jobs pull in file-system code).
 * test/families/support.test.ts checks that this list and the registry name the same systems.
 */
import type { SystemEntry } from './family.js';
import { cnnfSystemEntry } from './cnn-f/options.js';
import { equilibriumPropConvEntry, equilibriumPropEntry } from './equilibrium-prop/options.js';
import { hopfieldEntry } from './hopfield/options.js';
import { lcaConvEntry, lcaEntry } from './lca/options.js';
import { pcFlowEntry, pcNetworkEntry, predifyEntry } from './predictive-coding/options.js';

export const SYSTEM_ENTRIES: Readonly<Record<string, SystemEntry>> = Object.freeze(
  Object.fromEntries(
    [hopfieldEntry, equilibriumPropEntry, equilibriumPropConvEntry, lcaEntry, lcaConvEntry, pcNetworkEntry, pcFlowEntry, predifyEntry, cnnfSystemEntry].map((e) => [e.kind, e]),
  ),
);
