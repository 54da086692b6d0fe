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
import { epAttractorDemo } from './ep-attractor-demo.js';
import type { JobEntry } from './job.js';

export type { JobContext, JobEntry, Metrics } from './job.js';
export const jobs = createRegistry<JobEntry>('job kind');
jobs.register(hopfieldRecall.kind, hopfieldRecall);
jobs.register(lcaDictionary.kind, lcaDictionary);
jobs.register(lcanet.kind, lcanet);
jobs.register(epTrain.kind, epTrain);
jobs.register(epVsBptt.kind, epVsBptt);
jobs.register(epAttractorDemo.kind, epAttractorDemo);
