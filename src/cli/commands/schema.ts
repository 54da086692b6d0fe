import { writeOutputFile } from '../../runs/output-path.js';
import { simJsonSchema } from '../../spec/schema.js';
import { sweepJsonSchema } from '../../app/sweep/sweep-schema.js';

export async function schemaCommand(options: { out?: string; sweep?: boolean }): Promise<void> {
  const text = `${JSON.stringify(options.sweep ? sweepJsonSchema() : simJsonSchema(), null, 2)}\n`;
  if (options.out) writeOutputFile(options.out, text, '--out');
  else process.stdout.write(text);
}
