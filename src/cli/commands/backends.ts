import { listBackends } from '../../tensor/index.js';

export async function backendsCommand(): Promise<void> {
  for (const b of await listBackends()) {
    const status = b.available ? 'available' : 'unavailable';
    const why = b.available ? (b.detail ?? '') : (b.reason ?? '');
    process.stdout.write(`${b.name.padEnd(11)} ${status.padEnd(12)}${b.isDefault ? '(default) ' : ''}${why}\n`);
    const width = Math.max(0, ...(b.kernels ?? []).map((k) => k.kernelName.length));
    for (const k of b.kernels ?? []) {
      process.stdout.write(`${''.padEnd(12)}${k.kernelName.padEnd(width)} ${k.native ? 'native' : 'wasm  '}  ${k.detail}\n`);
    }
  }
}
