/**
 * One relaxation the live view steps through, a few steps per animation frame: each call runs simulate()
 * for k more steps from the state the previous call ended in (state0, with t0 carried on), with probes on
 * the energy, the readout and the drawn state variables. Stepping k at a time gives the same states as one
 * simulate() over all the steps for the view's fixed-step relaxations (the discrete map and fixed-dt
 * integrators carry no state but t), which test/app/view checks. The same code runs in the page (WebGL) and
 * in the server (wasm), so the two modes show the same frames.
 */
import * as tf from '@tensorflow/tfjs-core';
import { simulate } from '../../core/simulate.js';
import type { Probe } from '../../core/probes.js';
import type { Solution } from '../../core/solution.js';
import type { ViewModel } from './view-model.js';

export interface PanelFrame {
  readonly label: string;
  readonly height: number;
  readonly width: number;
  readonly values: number[];
}

export interface Frame {
  readonly step: number;
  /** The energy of the state (undefined for a system without one). */
  readonly energy?: number;
  /** Class probabilities (softmax of the scores), when the model classifies. */
  readonly probabilities?: number[];
  readonly panels: readonly PanelFrame[];
}

export interface Relaxation {
  /** Steps taken so far. */
  readonly steps: () => number;
  /** Runs k more steps (fewer at the model's maxSteps); returns the frame of the initial state first, on the first call. */
  advance(k: number): Frame[];
  dispose(): void;
}

function softmax(v: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(v));
  const e = Array.from(v, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** One record [1, ...] of a trace [records, 1, ...] as plain numbers. */
function record(values: Float32Array, records: number, index: number): Float32Array {
  const per = values.length / records;
  return values.subarray(index * per, (index + 1) * per);
}

export function openRelaxation(model: ViewModel, image: Float32Array): Relaxation {
  const x = tf.tensor2d(image, [1, image.length]);
  const input = tf.tidy(() => model.input(x));
  const probes: Probe[] = [
    ...(model.system.energy ? [{ variable: 'energy' }] : []),
    ...(model.system.readout && model.scores ? [{ variable: 'readout' }] : []),
    ...model.panels.map((p) => ({ variable: p.variable })),
  ];
  let current: Solution<any> | undefined;
  let steps = 0;
  const frameOf = (solution: Solution<any>, index: number, step: number): Frame => {
    const read = (name: string) => {
      const t = solution.traces[name]!;
      return record(t.values.dataSync() as Float32Array, t.steps.length, index);
    };
    let probabilities: number[] | undefined;
    if (solution.traces.readout && model.scores) {
      const t = solution.traces.readout;
      const one = tf.tidy(() => model.scores!(tf.squeeze(tf.slice(t.values, [index], [1]), [0])));
      probabilities = softmax(one.dataSync());
      one.dispose();
    }
    return {
      step,
      ...(solution.traces.energy ? { energy: read('energy')[0]! } : {}),
      ...(probabilities ? { probabilities } : {}),
      panels: model.panels.map((p) => {
        const raw = read(p.variable);
        let values: number[];
        if (p.maxOver) {
          values = Array.from({ length: p.height * p.width }, (_, i) => {
            let best = -Infinity;
            for (let f = 0; f < p.maxOver!; f++) best = Math.max(best, raw[i * p.maxOver! + f]!);
            return best;
          });
        } else values = Array.from({ length: p.height * p.width }, (_, i) => (i < raw.length ? raw[i]! : Number.NaN));
        return { label: p.label, height: p.height, width: p.width, values };
      }),
    };
  };
  return {
    steps: () => steps,
    advance(k: number): Frame[] {
      const todo = Math.min(k, model.maxSteps - steps);
      if (todo <= 0) return [];
      const solution = simulate({
        system: model.system,
        params: model.params,
        input,
        ...(model.integrator ? { integrator: model.integrator } : {}),
        dt: model.dt,
        t0: steps * model.dt,
        maxSteps: todo,
        ...(current ? { state0: current.state } : {}),
        probes,
      });
      const frames: Frame[] = [];
      if (!current) frames.push(frameOf(solution, 0, 0));
      const records = Object.values(solution.traces)[0]?.steps.length ?? 1;
      frames.push(frameOf(solution, records - 1, steps + solution.steps));
      current?.dispose();
      current = solution;
      steps += solution.steps;
      return frames;
    },
    dispose() {
      current?.dispose();
      tf.dispose([x, ...Object.values(input).filter((t) => t !== x)]);
    },
  };
}
