import { SpecError } from '../../base/errors.js';
import { loadSpecFile } from '../../spec/parse.js';

/** Validates every file given; reports each; fails if any is invalid. */
export async function validateCommand(files: string[]): Promise<void> {
  const failures: string[] = [];
  for (const file of files) {
    try {
      const spec = loadSpecFile(file);
      process.stdout.write(`ok  ${file} (${spec.system.kind}, job ${spec.job.kind})\n`);
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      failures.push(e.message);
    }
  }
  if (failures.length > 0) throw new SpecError('', failures.join('\n'));
}
