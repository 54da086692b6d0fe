import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSpecFile } from '../../src/spec/parse.js';
import { simJsonSchema } from '../../src/spec/schema.js';

const sims = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../sims');
const specFiles = fs.readdirSync(sims).filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json') && !f.endsWith('.sweep.json'));

describe('every sims/ file validates', () => {
  it('there are sims', () => expect(specFiles).toContain('quickstart.json'));
  for (const file of specFiles) {
    it(file, () => {
      const spec = loadSpecFile(path.join(sims, file));
      expect(spec.name).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
    });
  }
});

describe('the JSON Schema for editors', () => {
  it('sims/sim.schema.json is the schema the code builds (regenerate with `neurodyn schema --out sims/sim.schema.json`)', () => {
    const committed = JSON.parse(fs.readFileSync(path.join(sims, 'sim.schema.json'), 'utf8'));
    expect(committed).toEqual(simJsonSchema());
  });
  it('lists the registered system kinds and requires the fields a spec cannot do without', () => {
    const schema = simJsonSchema() as { required: string[]; properties: Record<string, unknown> };
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'system', 'run', 'job']));
    expect(JSON.stringify(schema.properties.system)).toContain('"hopfield"');
  });
});
