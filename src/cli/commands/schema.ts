import { writeFileAtomic } from '../../runs/atomic-write.js';
import { simJsonSchema } from '../../spec/schema.js';

export async function schemaCommand(options: { out?: string }): Promise<void> {
  const text = `${JSON.stringify(simJsonSchema(), null, 2)}\n`;
  if (options.out) writeFileAtomic(options.out, text);
  else process.stdout.write(text);
}
