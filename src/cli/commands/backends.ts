import { listBackends } from '../../tensor/index.js';

export async function backendsCommand(): Promise<void> {
  for (const b of await listBackends()) {
    const status = b.available ? 'available' : 'unavailable';
    const why = b.available ? (b.detail ?? '') : (b.reason ?? '');
    process.stdout.write(`${b.name.padEnd(11)} ${status.padEnd(12)}${b.isDefault ? '(default) ' : ''}${why}\n`);
  }
}
