/**
 * Attack numbers a reader can trust: the worst case includes every attack the run performed (the chosen
 * ones, the diagnostics' sweeps, the minimal-perturbation search), is never above any of them, and agrees
 * with the per-example record; the median minimal perturbation is taken over clean-correct examples with
 * unbroken ones reported as "> ε_max"; per-example files round-trip; every stored adversarial input lies in
 * its threat model; the cost estimate bounds the relaxations actually run; progress lines appear off a
 * terminal.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRng } from '../../src/base/rng.js';
import { attackModel } from '../../src/attacks/attack-model.js';
import type { DynamicsClassifier } from '../../src/attacks/classifier.js';
import { totalWork } from '../../src/attacks/cost.js';
import { ExampleLedger } from '../../src/attacks/ledger.js';
import { formatMinimalPerturbation, minimalPerturbation, summarizeMinimalPerturbation } from '../../src/attacks/minimal-perturbation.js';
import { feedForwardClassifier } from '../../src/attacks/models/index.js';
import { classifierFor } from '../../src/attacks/models/index.js';
import { compareExamples, readAdversarial, readExamples, writeExamples } from '../../src/attacks/per-example.js';
import { pgd } from '../../src/attacks/pgd.js';
import { attackProgress, type AttackProgress } from '../../src/attacks/progress.js';
import { runProtocol, type ProtocolReport } from '../../src/attacks/protocol.js';
import { loadModelSource } from '../../src/app/model-source.js';
import { subset, toTensors } from '../../src/data/index.js';
import { useBackend } from '../../src/tensor/index.js';

let dir: string;
let classifier: DynamicsClassifier;
let x: tf.Tensor;
let labels: tf.Tensor1D;
let report: ProtocolReport;
let counted: { forward: number; backward: number };
const N = 12;

function collector(): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

beforeAll(async () => {
  await useBackend('wasm');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-attack-report-'));
  const specFile = path.join(dir, 'tiny-hopfield.json');
  fs.writeFileSync(
    specFile,
    JSON.stringify({
      name: 'tiny-hopfield',
      data: { name: 'mnist-embedded' },
      system: { kind: 'hopfield', gain: 4, tau: 1, cueCurrent: 0.5 },
      run: { integrator: 'euler', dt: 0.25, maxSteps: 8 },
      job: { kind: 'hopfield-recall' },
    }),
  );
  const { source } = loadModelSource(specFile);
  classifier = classifierFor(source);
  ({ x, y: labels } = toTensors(subset(source.data.test, 0, N), { layout: 'flat' }));
  counted = { forward: 0, backward: 0 };
  const counter: AttackProgress = { stage: () => {}, relaxed: (kind, n) => (counted[kind] += n), line: () => {}, status: () => '', done: () => {} };
  // Square with 2 queries hardly breaks anything; the diagnostics' PGD sweeps at ε 0.3 do.
  report = runProtocol({
    classifier,
    norm: 'linf',
    epsilons: [0.1, 0.3],
    attacks: ['square'],
    gradient: { gradient: { kind: 'unrolled' } },
    budget: { pgdSteps: 4, apgdSteps: 4, restarts: 1, queries: 2 },
    x,
    labels,
    rng: makeRng(3),
    batchSize: 8,
    order: 'independent',
    minimalPerturbation: true,
    bisections: 4,
    diagnostics: true,
    diagnosticExamples: 8,
    say: () => {},
    progress: () => counter,
  });
}, 300_000);

afterAll(() => {
  tf.dispose([x, labels]);
  classifier.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the worst case over every attack the run performed', () => {
  it('is at or below every chosen attack and their worst case, and below every diagnostic sweep on its examples', () => {
    for (const [e, w] of report.worstCase.entries()) {
      const p = report.robustness.perEpsilon[e]!;
      expect(w.epsilon).toBe(p.epsilon);
      expect(w.robustAccuracy).toBeLessThanOrEqual(p.robustAccuracy);
      for (const a of Object.values(p.attacks)) expect(w.robustAccuracy).toBeLessThanOrEqual(a.accuracy);
    }
    expect(report.diagnosticAttacks.length).toBeGreaterThan(5);
    for (const d of report.diagnosticAttacks) expect(d.worstCase).toBeLessThanOrEqual(d.accuracy);
    // The sweeps broke examples the chosen attacks missed, and the worst case counts them.
    const atD = report.robustness.perEpsilon.find((p) => p.epsilon === report.diagnostics!.epsilon)!;
    const sweepBest = Math.min(...report.diagnosticAttacks.map((d) => d.accuracy));
    const chosenOnFirst = Array.from({ length: 8 }, (_, i) => atD.robust[i]!).reduce((s, v) => s + v, 0) / 8;
    expect(sweepBest).toBeLessThan(chosenOnFirst);
    expect(report.worstCase.find((w) => w.epsilon === atD.epsilon)!.robustAccuracy).toBeLessThan(atD.robustAccuracy);
    // Non-increasing in ε.
    expect(report.worstCase[1]!.robustAccuracy).toBeLessThanOrEqual(report.worstCase[0]!.robustAccuracy);
  });

  it('agrees with the per-example record and the minimal perturbation, example by example', () => {
    const outcomes = report.ledger.outcomes();
    const sizes = report.minimalPerturbations!;
    for (const o of outcomes) {
      const w = report.worstCase.find((c) => c.epsilon === o.epsilon)!;
      expect(o.robust).toBe(w.robust[o.example] === 1);
      expect(o.robust).toBe(o.cleanCorrect && o.brokenBy.length === 0);
      if (!o.cleanCorrect) {
        expect(Number.isNaN(sizes[o.example]!)).toBe(true);
        continue;
      }
      // Broken at ε: some point within ε fooled it; robust at ε: nothing the run found within ε did.
      if (o.robust) expect(sizes[o.example]!).toBeGreaterThan(o.epsilon * (1 + 1e-5));
      else {
        expect(o.distance).toBeLessThanOrEqual(o.epsilon * (1 + 1e-5) + 1e-6);
        expect(sizes[o.example]!).toBeLessThanOrEqual(o.epsilon * (1 + 1e-5) + 1e-6);
        expect(o.prediction).not.toBe(o.label);
      }
    }
  });

  it('stores every adversarial input inside its threat model', () => {
    const clean = x.dataSync();
    const d = clean.length / N;
    for (const epsilon of [0.1, 0.3]) {
      const points = report.ledger.adversarial(epsilon);
      for (let i = 0; i < N; i++) {
        let linf = 0;
        for (let j = 0; j < d; j++) {
          const v = points[i * d + j]!;
          expect(v >= 0 && v <= 1).toBe(true);
          linf = Math.max(linf, Math.abs(v - clean[i * d + j]!));
        }
        expect(linf).toBeLessThanOrEqual(epsilon * (1 + 1e-5) + 1e-6);
      }
    }
  });

  it('estimates an upper bound on the relaxations it runs', () => {
    const estimate = totalWork(report.estimate!.stages);
    expect(counted.backward).toBeGreaterThan(0);
    expect(counted.forward).toBeLessThanOrEqual(estimate.forward);
    expect(counted.backward).toBeLessThanOrEqual(estimate.backward);
    expect(report.estimate!.seconds).toBeGreaterThan(0);
  });

  it('names the remedy in every masking warning', () => {
    expect(report.maskingWarnings.length).toBeGreaterThan(0);
    for (const w of report.maskingWarnings) expect(w).toMatch(/remedy: rerun with --attacker-steps .*--attacks \.\.\.,transfer/);
  });
});

describe('per-example results on disk', () => {
  it('round-trip: examples.jsonl and the adversarial .npy read back as written; compare finds the one changed example', () => {
    const out = path.join(dir, 'examples');
    fs.mkdirSync(out);
    const sink = {
      writeText: (name: string, text: string) => fs.writeFileSync(path.join(out, name), text),
      writeBytes: (name: string, bytes: Uint8Array) => {
        fs.mkdirSync(path.dirname(path.join(out, name)), { recursive: true });
        fs.writeFileSync(path.join(out, name), bytes);
      },
    };
    writeExamples(sink, report.ledger, classifier.inputShape, { sizes: report.minimalPerturbations!, maxEpsilon: 0.6 });
    const { rows } = readExamples(out);
    expect(rows).toHaveLength(N * 2);
    const outcomes = report.ledger.outcomes();
    rows.forEach((r, k) => {
      expect(r.example).toBe(outcomes[k]!.example);
      expect(r.epsilon).toBe(outcomes[k]!.epsilon);
      expect(r.robust).toBe(outcomes[k]!.robust);
      expect(r.broken_by).toEqual(outcomes[k]!.brokenBy);
      expect(r.prediction).toBe(outcomes[k]!.prediction);
      if (!r.clean_correct) expect(r.min_perturbation).toBeNull();
    });
    for (const epsilon of [0.1, 0.3]) {
      const { shape, data } = readAdversarial(out, epsilon);
      expect(shape).toEqual([N, 784]);
      expect(Array.from(data)).toEqual(Array.from(report.ledger.adversarial(epsilon)));
    }
    expect(compareExamples(rows, rows).differences).toEqual([]);
    const flipped = rows.map((r) => (r.example === 3 && r.epsilon === 0.3 && r.clean_correct ? { ...r, robust: !r.robust } : r));
    const c = compareExamples(rows, flipped);
    const changed = rows.some((r) => r.example === 3 && r.epsilon === 0.3 && r.clean_correct) ? 1 : 0;
    expect(c.differences).toHaveLength(changed);
    expect(c.shared).toBe(N * 2);
    // One example turned from robust to broken or back: one discordant pair, p = 1 under the exact test.
    const at = c.perEpsilon.find((p) => p.epsilon === 0.3)!;
    expect(at.robustB - at.robustA).toBe(Math.round(at.difference * at.examples));
    expect(at.p).toBe(1);
    // Every example robust in B only: the exact two-sided p is 2·2⁻ⁿ.
    const none = rows.map((r) => ({ ...r, robust: false }));
    const all = rows.map((r) => ({ ...r, robust: true }));
    const lopsided = compareExamples(none, all).perEpsilon[0]!;
    expect(lopsided.difference).toBe(1);
    expect(lopsided.p).toBeCloseTo(2 * 2 ** -lopsided.examples, 15);
  });
});

describe('the per-example ledger, by hand', () => {
  it('keeps which attacks broke each example, prefers fooling points, and carries breaks to larger ε', () => {
    // Three examples of two values; example 2 is misclassified clean.
    const clean = Float32Array.from([0.5, 0.5, 0.2, 0.2, 0.9, 0.9]);
    const ledger = new ExampleLedger(clean, Int32Array.from([0, 1, 1]), Int32Array.from([0, 1, 0]), [-1, -2, 0.5], [0.1, 0.2], 'linf');
    ledger.record({ epsilon: 0.1, attack: 'a', rows: [0, 1], points: Float32Array.from([0.55, 0.5, 0.2, 0.25]), fooled: [0, 1], margin: [-0.5, 0.3], prediction: [0, 0] });
    ledger.record({ epsilon: 0.1, attack: 'b', rows: [0], points: Float32Array.from([0.6, 0.45]), fooled: [0], margin: [-0.2], prediction: [0] });
    ledger.record({ epsilon: 0.2, attack: 'a', rows: [0, 1], points: Float32Array.from([0.5, 0.5, 0.2, 0.2]), fooled: [0, 0], margin: [-0.9, -1.9], prediction: [0, 1] });
    ledger.finish();
    expect(Array.from(ledger.robust(0.1))).toEqual([1, 0, 0]);
    // Example 1 was broken at 0.1 by a: at 0.2 too, with a's point, though a's own try at 0.2 failed.
    expect(Array.from(ledger.robust(0.2))).toEqual([1, 0, 0]);
    const o = ledger.outcomes();
    const at = (example: number, epsilon: number) => o.find((r) => r.example === example && r.epsilon === epsilon)!;
    expect(at(1, 0.1).brokenBy).toEqual(['a']);
    expect(at(1, 0.2).brokenBy).toEqual(['a (ε 0.1)']);
    expect(at(1, 0.2).worstAttack).toBe('a (ε 0.1)');
    expect(Array.from(ledger.adversarial(0.2).subarray(2, 4))).toEqual([0.2, 0.25].map(Math.fround));
    expect(at(1, 0.2).distance).toBeCloseTo(0.05, 6);
    // Example 0: the higher margin (b's −0.2) is the stored point at 0.1; at 0.2 nothing beat the clean margin −1.
    expect(at(0, 0.1).worstAttack).toBe('b');
    expect(at(0, 0.1).margin).toEqual({ a: -0.5, b: -0.2 });
    expect(at(0, 0.2).worstAttack).toBe('a');
    expect(at(2, 0.1).cleanCorrect).toBe(false);
    expect(at(2, 0.1).robust).toBe(false);
    expect(Array.from(ledger.smallestFoolingDistance()).map((v) => Number(v.toFixed(4)))).toEqual([Infinity, 0.05, Infinity]);
  });
});

describe('median minimal perturbation over clean-correct examples', () => {
  it('leaves clean mistakes out and reports unbroken medians as "> ε_max"', () => {
    // Two clean mistakes (NaN), three clean-correct: 0.1, 0.3 and one never broken.
    const a = summarizeMinimalPerturbation([Number.NaN, 0.1, 0.3, Number.POSITIVE_INFINITY, Number.NaN], 0.6);
    expect(a).toMatchObject({ cleanCorrect: 3, unbroken: 1, median: 0.3 });
    // Counting the mistakes as 0 (the old convention) would have given a median of 0.1.
    const b = summarizeMinimalPerturbation([Number.NaN, 0.1, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY], 0.6);
    expect(b).toMatchObject({ cleanCorrect: 3, unbroken: 2, median: null, medianAbove: 0.6 });
    expect(formatMinimalPerturbation(b)).toMatch(/^> 0\.6 over 3 clean-correct examples \(2 not broken within ε_max = 0\.6/);
    const c = summarizeMinimalPerturbation([0.1, 0.2, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY], 0.6);
    expect(c.median).toBeNull();
    expect(c.medianAbove).toBeCloseTo(0.4, 12);
    expect(summarizeMinimalPerturbation([Number.NaN], 1)).toMatchObject({ cleanCorrect: 0, median: null });
  });

  it('minimalPerturbation marks clean mistakes NaN, not 0', () => {
    // z = x·w with w = identity on 2 features: the class is the larger feature. Example 1 is labelled against it.
    const w = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    const ff = feedForwardClassifier({ layers: [{ weights: w, bias: tf.zeros([2]) as tf.Tensor1D }], imageShape: [1, 2, 1] });
    const xs = tf.tensor2d([
      [0.6, 0.4],
      [0.7, 0.3],
    ]);
    const ys = tf.tensor1d([0, 1], 'int32');
    const found = minimalPerturbation({ model: attackModel(ff, { gradient: { kind: 'unrolled' } }), attack: pgd({ steps: 20, loss: 'margin', randomStart: false }), x: xs, labels: ys, norm: 'linf', maxEpsilon: 0.5, bisections: 10, rng: makeRng(0) });
    expect(Number.isNaN(found[1]!)).toBe(true);
    // Analytic: the margin 0.2 closes at ε = 0.1 (both features move by ε).
    expect(found[0]!).toBeGreaterThanOrEqual(0.1 * 0.999);
    expect(found[0]!).toBeLessThan(0.1 * 1.03);
    tf.dispose([xs, ys]);
    ff.dispose();
  });
});

describe('progress off a terminal', () => {
  it('prints plain lines, a heartbeat inside a long attack with the time left, and a closing line', () => {
    const { stream, text } = collector();
    let clock = 0;
    const progress = attackProgress({ estimate: 100, timing: { forward: 0.01, backward: 0.03, batch: 4 }, stream, heartbeatSeconds: 30, now: () => clock });
    progress.stage('ε 0.1, batch 1/2: pgd on 4', 20);
    progress.relaxed('backward', 100);
    expect(text()).toBe('');
    clock = 30_000;
    progress.relaxed('backward', 100);
    // 6 s of the stage's 20 s bound: 6% done after 30 s, so about 470 s left.
    progress.line(`ε 0.1, batch 1/2, pgd: broke 2 of 4 in 30.0 s; ${progress.status()}`);
    // The attack stopped early: the next stage counts the whole first bound as done.
    progress.stage('ε 0.1, batch 1/2: square on 2', 30);
    expect(progress.status()).toBe('20% of the estimated work, about 2.0 min left');
    progress.done();
    const lines = text().split('\n');
    expect(lines[0]).toBe('  … ε 0.1, batch 1/2: pgd on 4: 6% of the estimated work, about 7.8 min left after 30 s');
    expect(lines[1]).toBe('ε 0.1, batch 1/2, pgd: broke 2 of 4 in 30.0 s; 6% of the estimated work, about 7.8 min left');
    expect(lines[2]).toBe('attack evaluation done in 30 s (the estimate, an upper bound, was 1.7 min)');
  });
});
