/** Backend selection and listing. */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendError, UnknownNameError } from '../../src/base/errors.js';
import { BACKEND_NAMES, DEFAULT_BACKEND, explainDawnLoadError, listBackends, useBackend } from '../../src/tensor/index.js';

describe('backends', () => {
  it('importing registers wasm and cpu but never loads the optional backends', () => {
    expect(tf.findBackendFactory('wasm')).toBeTruthy();
    expect(tf.findBackendFactory('cpu')).toBeTruthy();
    expect(tf.findBackendFactory('tensorflow')).toBeFalsy();
    expect(tf.findBackendFactory('webgpu')).toBeFalsy();
  });

  it('listBackends reports wasm (default) and cpu available, and a reason for each unavailable one', async () => {
    const list = await listBackends();
    expect(list.map((b) => b.name)).toEqual([...BACKEND_NAMES]);
    const byName = Object.fromEntries(list.map((b) => [b.name, b]));
    expect(byName.wasm).toMatchObject({ available: true, isDefault: true });
    expect(byName.wasm!.detail).toMatch(/SIMD/);
    expect(byName.cpu).toMatchObject({ available: true, isDefault: false });
    expect(list.filter((b) => b.isDefault).map((b) => b.name)).toEqual([DEFAULT_BACKEND]);
    for (const b of list) {
      if (b.available) expect(b.reason).toBeUndefined();
      else expect(b.reason?.trim().length, `${b.name} reason`).toBeGreaterThan(10);
    }
  });

  it('listing leaves the active backend alone and keeps wasm preferred over the optional ones', async () => {
    await useBackend('cpu');
    await listBackends();
    expect(tf.getBackend()).toBe('cpu');
    for (const name of ['tensorflow', 'webgpu']) {
      const entry = (tf.engine() as unknown as { registryFactory: Record<string, { priority: number } | undefined> }).registryFactory[name];
      if (entry) expect(entry.priority).toBeLessThan(2);
    }
  });

  it('useBackend switches between the available backends', async () => {
    expect(await useBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await useBackend('wasm')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('useBackend of an unknown name throws an UnknownNameError naming the option and the backends', async () => {
    const err = await useBackend('nope', '--backend').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownNameError);
    const message = (err as Error).message;
    expect(message).toContain('--backend');
    expect(message).toContain('"nope"');
    for (const name of BACKEND_NAMES) expect(message).toContain(`"${name}"`);
  });

  it('useBackend of an unavailable backend throws a BackendError carrying the listed reason', async () => {
    const unavailable = (await listBackends()).filter((b) => !b.available);
    for (const b of unavailable) {
      const err = await useBackend(b.name).catch((e: unknown) => e);
      expect(err, b.name).toBeInstanceOf(BackendError);
      expect((err as Error).message).toContain(b.reason!);
    }
  });

  it('explains a Dawn binary that needs a newer glibc', () => {
    const e = new Error("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by /x/node_modules/webgpu/dist/linux-x64/dawn.node)");
    const have = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
    expect(explainDawnLoadError(e)).toBe(`Dawn's binary (npm "webgpu") needs glibc 2.38, this machine has ${have ?? 'an older one'}`);
    expect(explainDawnLoadError(new Error('boom\nstack'))).toBe('Dawn (npm "webgpu") failed to load: boom');
  });
});
