import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { integrators } from '../../src/core/integrators/index.js';
import { simulate } from '../../src/core/simulate.js';
import { useBackend } from '../../src/tensor/index.js';
import { exactSolution, linearSystem } from './linear-system.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Least-squares slope of log(error) against log(dt): the observed order of convergence. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b) / n;
  const my = ys.reduce((a, b) => a + b) / n;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * (ys[i]! - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

const continuous = integrators.names().map((n) => integrators.get(n)).filter((i) => i.accepts === 'continuous');

describe('every continuous integrator converges at its declared order on an analytic solution', () => {
  it('enrols all registered continuous integrators', () => {
    expect(continuous.map((i) => i.name).sort()).toEqual(['euler', 'exponential-euler', 'rk4']);
  });
  for (const integrator of continuous) {
    it(integrator.name, () => {
      const T = 4;
      // Float32 round-off limits how small dt can go before the error stops falling with dt^order.
      const dts = integrator.order >= 4 ? [0.4, 0.2, 0.1, 0.05] : [0.1, 0.05, 0.025, 0.0125];
      const errors = dts.map((dt) => {
        const sol = simulate({ system: linearSystem, params: {}, input: {}, integrator, dt, maxSteps: Math.round(T / dt) });
        const [x, y] = sol.state.x.dataSync();
        sol.dispose();
        const [ex, ey] = exactSolution(T);
        return Math.hypot(x! - ex, y! - ey);
      });
      const order = slope(dts.map(Math.log), errors.map(Math.log));
      expect(Math.abs(order - integrator.order)).toBeLessThan(0.3);
    });
  }
});

describe('the discrete map', () => {
  it('refuses a continuous system and names what to use instead', () => {
    expect(() => simulate({ system: linearSystem, params: {}, input: {}, integrator: integrators.get('map'), maxSteps: 2 })).toThrow(
      /continuous/,
    );
  });
});

describe('tensor hygiene', () => {
  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    for (const integrator of continuous) {
      simulate({ system: linearSystem, params: {}, input: {}, integrator, dt: 0.1, maxSteps: 10 }).dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
