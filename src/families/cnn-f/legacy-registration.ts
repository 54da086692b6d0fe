/**
 * TEMPORARY, until main has the commit "families: every family registers …": puts the CNN-F family's
 * parts into the registries that exist today (systems, jobs, classifier adapters, NIR mappers). Imported
 * once, from src/spec/schema.ts, before the schema reads the registries. At merge time delete this file
 * and its import, and add `registerFamily(cnnfFamily)` to src/families/index.ts.
 */
import { classifierAdapters } from '../../attacks/models/source.js';
import { nirMappers } from '../../export/nir-mapping.js';
import { jobs, type JobEntry as LegacyJobEntry } from '../../jobs/index.js';
import { systems } from '../../systems/index.js';
import { familyProblems } from '../registry.js';
import { cnnfFamily } from './index.js';

const problems = familyProblems(cnnfFamily);
if (problems.length > 0) throw new Error(`family cnn-f cannot be registered:\n  ${problems.join('\n  ')}`);
for (const system of cnnfFamily.systems) {
  if (!systems.has(system.kind)) systems.register(system.kind, { ...system, variables: system.variables({}) });
}
// The old JobContext's system entry lists its variables as an array; cnnf-train reads only `create`.
for (const job of cnnfFamily.jobs) if (!jobs.has(job.kind)) jobs.register(job.kind, job as unknown as LegacyJobEntry);
for (const [kind, adapter] of Object.entries(cnnfFamily.classifiers ?? {})) if (!classifierAdapters.has(kind)) classifierAdapters.register(kind, adapter);
for (const [kind, mapper] of Object.entries(cnnfFamily.nir ?? {})) if (!nirMappers.has(kind)) nirMappers.register(kind, mapper);
