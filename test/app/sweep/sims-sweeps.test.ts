import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSweepFile } from '../../../src/app/sweep/load-sweep.js';
import { sweepJsonSchema } from '../../../src/app/sweep/sweep-schema.js';

const sims = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../sims');
const sweepFiles = fs.readdirSync(sims).filter((f) => f.endsWith('.sweep.json'));

describe('every sims/*.sweep.json validates, with every trial it plans', () => {
  it('there are sweeps', () => expect(sweepFiles.length).toBeGreaterThan(0));
  for (const file of sweepFiles) {
    it(file, () => {
      const loaded = loadSweepFile(path.join(sims, file));
      expect(loaded.trials.length).toBeGreaterThan(0);
    });
  }
  it('sims/sweep.schema.json is the schema the code builds (regenerate with `neurodyn schema --sweep --out sims/sweep.schema.json`)', () => {
    expect(JSON.parse(fs.readFileSync(path.join(sims, 'sweep.schema.json'), 'utf8'))).toEqual(sweepJsonSchema());
  });
});
