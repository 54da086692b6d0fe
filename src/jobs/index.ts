/**
 * The job registry: what a spec's `job.kind` may name. Adding a job: a file here exporting a `JobEntry`
 * (strict zod options, the systems it drives, `run`), a `register` line below, a test, and a sims/ file.
 */
import { createRegistry } from '../core/registry.js';
import { hopfieldRecall } from './hopfield-recall.js';
import { lcaDictionary } from './lca-dictionary.js';
import { lcanet } from './lcanet.js';
import { epTrain } from './ep-train.js';
import { epVsBptt } from './ep-vs-bptt.js';
import type { JobEntry } from './job.js';

export type { JobContext, JobEntry, Metrics } from './job.js';
export const jobs = createRegistry<JobEntry>('job kind');
jobs.register(hopfieldRecall.kind, hopfieldRecall);
jobs.register(lcaDictionary.kind, lcaDictionary);
jobs.register(lcanet.kind, lcanet);
jobs.register(epTrain.kind, epTrain);
jobs.register(epVsBptt.kind, epVsBptt);

// Until the family registration lands on main (issue 10: registerFamily in src/families/index.ts), the
// predictive-coding family's systems and jobs are registered here, the one place that sees both registries.
import { predictiveCodingFamily } from '../families/predictive-coding/index.js';
import { systems as legacySystems } from '../systems/index.js';
import { classifierAdapters } from '../attacks/models/source.js';
for (const entry of predictiveCodingFamily.systems) legacySystems.register(entry.kind, { ...entry, variables: entry.variables({ layers: Array.from({ length: 8 }, () => 1) }) });
for (const [kind, adapter] of Object.entries(predictiveCodingFamily.classifiers ?? {})) classifierAdapters.register(kind, adapter);
for (const job of predictiveCodingFamily.jobs) {
  // The family's jobs read context.system as the new SystemEntry (variables as a function): give them that.
  jobs.register(job.kind, { ...job, run: (context) => job.run({ ...context, system: predictiveCodingFamily.systems.find((s) => s.kind === context.system.kind)! }) });
}
