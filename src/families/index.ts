/**
 * Every family, registered once. Adding a family: a folder `src/families/<name>/` whose index.ts exports a
 * `Family`, and one line below (CONTRIBUTING.md has the whole checklist). Jobs that drive the systems of
 * several families live in src/families/jobs/ and are registered after them with registerJob.
 */
import { registerFamily, registerJob } from './registry.js';
import { equilibriumPropFamily } from './equilibrium-prop/index.js';
import { hopfieldFamily } from './hopfield/index.js';
import { lcaFamily } from './lca/index.js';
import { predictiveCodingFamily } from './predictive-coding/index.js';
import { cnnfFamily } from './cnn-f/index.js';
import { similarityRegularized } from './jobs/similarity-regularized.js';
import { relaxJob } from './jobs/relax.js';
import { classifierAdapters } from '../attacks/models/source.js';

registerFamily(hopfieldFamily);
registerFamily(equilibriumPropFamily);
registerFamily(lcaFamily);
registerFamily(predictiveCodingFamily);
registerFamily(cnnfFamily);

// Jobs that drive the systems of several families (src/families/jobs/).
registerJob(similarityRegularized);
registerJob(relaxJob(classifierAdapters.names()));

export { families, jobs, systems, registerFamily, registerJob, familyProblems, supportTable, type SupportTableRow } from './registry.js';
export { CAPABILITIES, type Capability, type Family, type JobContext, type JobEntry, type Metrics, type ResolvedSpec, type Support, type SupportRow, type SystemEntry } from './family.js';
