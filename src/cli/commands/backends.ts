import { listBackends } from '../../tensor/index.js';

export async function backendsCommand(): Promise<void> {
  for (const b of await listBackends()) {
    const status = b.available ? 'available' : 'unavailable';
    const why = b.available ? (b.detail ?? '') : (b.reason ?? '');
    process.stdout.write(`${b.name.padEnd(11)} ${status.padEnd(12)}${b.isDefault ? '(default) ' : ''}${why}\n`);
    for (const k of b.kernels ?? []) {
      process.stdout.write(`${''.padEnd(12)}${k.kernelName.padEnd(21)} ${k.native ? 'native' : 'wasm  '}  ${k.detail}\n`);
    }
  }
}
