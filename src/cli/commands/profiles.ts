import { listProfiles } from '../../hardware/profiles.js';
import type { Quantity } from '../../hardware/quantity.js';

const show = (q: Quantity | undefined) => (q ? `${q.text}${q.status === 'published' ? '' : q.status === 'derived' ? ' (d)' : ' (e)'}` : '-');

/** `neurodyn profiles`: the built-in hardware profiles with their main figures. */
export async function profilesCommand(): Promise<void> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const rows = listProfiles().map((p) => [
    p.id,
    p.energyModel,
    show(p.energy.synapticOp ?? p.energy.mac),
    show(p.energy.neuronUpdate),
    show(p.energy.staticPowerPerChip),
    show(p.timing.timestep ?? p.timing.mac),
    show(p.capacity.coresPerChip),
    show(p.capacity.neuronsPerCore),
    show(p.capacity.weightBits),
    p.capabilities.gradedSpikes ? 'yes' : 'no',
  ]);
  const header = ['id', 'energy model', 'E/synop or MAC', 'E/neuron update', 'static/chip', 'step or t/MAC', 'cores', 'neurons/core', 'w bits', 'graded'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  out(line(header));
  for (const r of rows) out(line(r));
  out('(d) derived from published figures, (e) our estimate; sources in hardware-profiles/<id>.json. Add a profile by dropping a JSON file there or pass --profile ./file.json.');
}
