/**
 * The report that `run`, `compare`, `attack` and `corrupt` leave in their run folder (report.html) once the
 * folder is committed. A report that cannot be written does not undo the run: the command says why and how
 * to make it later.
 */
import path from 'node:path';
import { isNeurodynError } from '../../base/errors.js';
import { writeReport } from './report.js';

export function writeRunReport(folder: string, say: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): string | undefined {
  try {
    const { file } = writeReport([folder], path.join(folder, 'report.html'));
    say(`report ${path.relative(process.cwd(), file) || file}`);
    return file;
  } catch (e) {
    if (!isNeurodynError(e)) throw e;
    say(`no report written (${e.message}); make it later with: neurodyn report ${folder}`);
    return undefined;
  }
}
