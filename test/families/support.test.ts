/**
 * The shared tests every family is enrolled in by registering: its support declarations agree with its
 * parts and with what its systems really do (probe variables are the real state's leaves, 'energy: yes'
 * means the built system has an energy), every example relaxes without NaN or leaks, and the same
 * relaxation on the cpu backend (the oracle) and on wasm agrees to float32 tolerance.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { makeRng } from '../../src/base/rng.js';
import { simulate } from '../../src/core/simulate.js';
import { leaves } from '../../src/core/tree.js';
import { CAPABILITIES, families, familyProblems, registerFamily, supportTable, systems, type Family } from '../../src/families/index.js';
import { useBackend } from '../../src/tensor/index.js';

const STEPS = 12;
const BATCH = 3;

/** Relaxes a system's example on the current backend; returns its final state's leaves as arrays. */
function relaxExample(kind: string): Record<string, Float32Array> {
  const entry = systems.get(kind);
  const options = entry.options.parse(entry.example.options);
  const system = entry.create(options, { inputSize: entry.example.inputSize });
  // make() may leave intermediates (the examples are tfjs code like any caller's): keep only its result.
  const { params, input } = tf.tidy(() => entry.example.make(system, BATCH, makeRng(3)) as unknown as tf.TensorContainer) as unknown as ReturnType<typeof entry.example.make>;
  const solution = simulate({ system, params, input, maxSteps: STEPS });
  const out = Object.fromEntries(leaves(solution.state).map((l) => [l.path, Float32Array.from(l.tensor.dataSync() as Float32Array)]));
  solution.dispose();
  tf.dispose([...leaves(params).map((l) => l.tensor), ...leaves(input).map((l) => l.tensor)]);
  return out;
}

describe('every registered family', () => {
  afterAll(async () => {
    await useBackend('wasm');
  });

  it('declares every capability of every system, consistently with its parts', () => {
    expect(families.names().length).toBeGreaterThanOrEqual(3);
    for (const name of families.names()) expect(familyProblems(families.get(name)), name).toEqual([]);
    const rows = supportTable();
    expect(rows.map((r) => r.system).sort()).toEqual([...systems.names()].sort());
    for (const row of rows) for (const c of CAPABILITIES) expect(row.support[c], `${row.system} ${c}`).toMatch(/^(yes|no: \S.*)$/);
  });

  it('refuses a family whose declarations and parts disagree, naming each problem', () => {
    const hopfield = families.get('hopfield');
    const broken: Family = {
      ...hopfield,
      name: 'broken',
      classifiers: {},
      support: { hopfield: { ...hopfield.support.hopfield!, energy: 'maybe' as never } } as Family['support'],
    };
    const { traces: _omitted, ...withoutTraces } = broken.support.hopfield!;
    const problems = familyProblems({ ...broken, support: { hopfield: withoutTraces as never } });
    expect(problems).toContain("hopfield: capability 'traces' is not declared (say 'yes' or 'no: <reason>')");
    expect(problems).toContain('hopfield: capability \'energy\' is "maybe"; expected \'yes\' or \'no: <reason>\'');
    expect(problems).toContain("hopfield: 'attack' is declared yes but the family supplies no classifiers.hopfield");
    expect(() => registerFamily(broken)).toThrow(/family broken cannot be registered/);
    expect(families.has('broken')).toBe(false);
    // A consistent family under a taken name is refused by the registry.
    expect(() => registerFamily(hopfield)).toThrow(/already registered/);
  });

  for (const kind of systems.names()) {
    describe(kind, () => {
      it('lists as probe variables exactly its state leaves, derived quantities, energy and readout', async () => {
        await useBackend('wasm');
        const entry = systems.get(kind);
        const options = entry.options.parse(entry.example.options);
        const system = entry.create(options, { inputSize: entry.example.inputSize });
        const { params, input } = tf.tidy(() => entry.example.make(system, BATCH, makeRng(1)) as unknown as tf.TensorContainer) as unknown as ReturnType<typeof entry.example.make>;
        const state = system.initState(input, params);
        const real = [
          ...leaves(state).map((l) => l.path),
          ...Object.keys(system.derived ?? {}),
          ...(system.energy ? ['energy'] : []),
          ...(system.readout ? ['readout'] : []),
        ];
        expect([...entry.variables(options)].sort()).toEqual(real.sort());
        const declaredEnergy = families.get(entry.family).support[kind]!.energy === 'yes';
        expect(declaredEnergy, "'energy: yes' exactly when the system has an energy").toBe(system.energy !== undefined);
        tf.dispose([...leaves(state).map((l) => l.tensor), ...leaves(params).map((l) => l.tensor), ...leaves(input).map((l) => l.tensor)]);
      });

      it('relaxes its example without NaN or leaked tensors, and cpu (the oracle) equals wasm', async () => {
        await useBackend('cpu');
        const onCpu = relaxExample(kind);
        await useBackend('wasm');
        const before = tf.memory().numTensors;
        const onWasm = relaxExample(kind);
        expect(tf.memory().numTensors).toBe(before);
        expect(Object.keys(onWasm).sort()).toEqual(Object.keys(onCpu).sort());
        for (const [path, values] of Object.entries(onCpu)) {
          const other = onWasm[path]!;
          expect(other.length).toBe(values.length);
          let scale = 1e-6;
          let diff = 0;
          values.forEach((v, i) => {
            expect(Number.isFinite(v) && Number.isFinite(other[i]!), `${kind} ${path}[${i}] finite`).toBe(true);
            scale = Math.max(scale, Math.abs(v));
            diff = Math.max(diff, Math.abs(v - other[i]!));
          });
          expect(diff / scale, `${kind} ${path}: max |cpu − wasm| / max |cpu|`).toBeLessThan(1e-4);
        }
      }, 60000);
    });
  }
});
