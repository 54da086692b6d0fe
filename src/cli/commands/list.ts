import { integrators } from '../../core/integrators/index.js';
import { DATASETS } from '../../data/index.js';
import { jobs } from '../../jobs/index.js';
import { systems } from '../../systems/index.js';

export async function listCommand(): Promise<void> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out('systems:');
  for (const name of systems.names()) out(`  ${name.padEnd(18)} ${systems.get(name).description}`);
  out('jobs:');
  for (const name of jobs.names()) out(`  ${name.padEnd(18)} ${jobs.get(name).description} (systems: ${jobs.get(name).systems.join(', ')})`);
  out('integrators:');
  for (const name of integrators.names()) out(`  ${name.padEnd(18)} order ${integrators.get(name).order}, ${integrators.get(name).accepts} systems`);
  out('datasets:');
  for (const [name, entry] of Object.entries(DATASETS)) out(`  ${name.padEnd(18)} ${entry.description}`);
}
