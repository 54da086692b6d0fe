/**
 * `neurodyn list`: what is registered, and the support table (family × capability) as each family
 * declares it. The table is the one place a user sees which system can be attacked, priced on hardware,
 * emulated in spikes or exported to NIR, and why not where it cannot.
 */
import { integrators } from '../../core/integrators/index.js';
import { DATASETS } from '../../data/index.js';
import { CAPABILITIES, jobs, supportTable, systems } from '../../families/index.js';

export function formatSupportTable(): string[] {
  const rows = supportTable();
  const head = ['system', ...CAPABILITIES];
  const cell = (row: (typeof rows)[number], c: (typeof CAPABILITIES)[number]) => (row.support[c] === 'yes' ? 'yes' : 'no');
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === 0 ? `${r.system}` : cell(r, CAPABILITIES[i - 1]!)).length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  const out = [line(head)];
  for (const r of rows) out.push(line([r.system, ...CAPABILITIES.map((c) => cell(r, c))]));
  out.push('', '  why not:');
  for (const r of rows) for (const c of CAPABILITIES) if (r.support[c] !== 'yes') out.push(`    ${r.system} ${c}: ${r.support[c].slice('no: '.length)}`);
  return out;
}

export async function listCommand(): Promise<void> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out('systems:');
  for (const name of systems.names()) out(`  ${name.padEnd(22)} [${systems.get(name).family}] ${systems.get(name).description}`);
  out('jobs:');
  for (const name of jobs.names()) out(`  ${name.padEnd(22)} ${jobs.get(name).description} (systems: ${jobs.get(name).systems.join(', ')})`);
  out('integrators:');
  for (const name of integrators.names()) out(`  ${name.padEnd(22)} order ${integrators.get(name).order}, ${integrators.get(name).accepts} systems`);
  out('datasets:');
  for (const [name, entry] of Object.entries(DATASETS)) out(`  ${name.padEnd(22)} ${entry.description}`);
  out('support (family × capability):');
  for (const line of formatSupportTable()) out(line);
}
