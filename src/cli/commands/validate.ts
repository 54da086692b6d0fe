import fs from 'node:fs';
import { SpecError } from '../../base/errors.js';
import { loadSweepFile } from '../../app/sweep/load-sweep.js';
import { loadSpecFile } from '../../spec/parse.js';

/** The `$schema` of a JSON Schema document (sims/sim.schema.json), as opposed to a spec pointing at one. */
function isJsonSchemaDocument(file: string): boolean {
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    return typeof raw?.$schema === 'string' && /^https?:\/\/json-schema\.org\//.test(raw.$schema);
  } catch {
    return false;
  }
}

/**
 * Validates every file given (specs, and sweeps by their `.sweep.json` name) and reports each; a JSON Schema
 * file (what `sims/*.json` also matches) is skipped with a note. Fails if any is invalid, after reporting
 * all of them.
 */
export async function validateCommand(files: string[]): Promise<void> {
  const failures: string[] = [];
  for (const file of files) {
    try {
      if (isJsonSchemaDocument(file)) {
        process.stdout.write(`skip ${file} (a JSON Schema for editors, not a spec)\n`);
      } else if (file.endsWith('.sweep.json')) {
        const sweep = loadSweepFile(file);
        process.stdout.write(`ok  ${file} (sweep over ${sweep.base.system.kind}, ${sweep.trials.length} trials)\n`);
      } else {
        const spec = loadSpecFile(file);
        process.stdout.write(`ok  ${file} (${spec.system.kind}, job ${spec.job.kind})\n`);
      }
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      failures.push(e.message);
    }
  }
  if (failures.length > 0) throw new SpecError('', `${failures.length} of ${files.length} files failed validation:\n${failures.join('\n')}`);
}
