import { executeRun } from '../../runs/execute.js';
import { loadSpecFile } from '../../spec/parse.js';

export interface RunOptions {
  readonly out?: string;
  readonly backend?: string;
  readonly seed?: number;
  readonly dataDir?: string;
  readonly quiet?: boolean;
}

export async function runCommand(specFile: string, options: RunOptions): Promise<void> {
  const spec = loadSpecFile(specFile);
  const { folder, summary } = await executeRun(spec, options);
  process.stdout.write(`run folder: ${folder}\n`);
  process.stdout.write(`summary: ${JSON.stringify(summary)}\n`);
}
