/**
 * Every family, registered once. Adding a family: a folder `src/families/<name>/` whose index.ts exports a
 * `Family`, and one line below (CONTRIBUTING.md has the whole checklist).
 */
import { registerFamily } from './registry.js';
import { equilibriumPropFamily } from './equilibrium-prop/index.js';
import { hopfieldFamily } from './hopfield/index.js';
import { lcaFamily } from './lca/index.js';

registerFamily(hopfieldFamily);
registerFamily(equilibriumPropFamily);
registerFamily(lcaFamily);

export { families, jobs, systems, registerFamily, familyProblems, supportTable, type SupportTableRow } from './registry.js';
export { CAPABILITIES, type Capability, type Family, type JobContext, type JobEntry, type Metrics, type ResolvedSpec, type Support, type SupportRow, type SystemEntry } from './family.js';
