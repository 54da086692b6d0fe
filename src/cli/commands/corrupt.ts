/**
 * `neurodyn corrupt <spec-or-run>`: accuracy of the model under the corruptions of src/data/corruptions.ts
 * per corruption, severity and relaxation step, written as a run folder: corrupt.json (settings),
 * summary.json (`metrics.clean_accuracy`, `metrics.accuracy` per corruption and severity, the mean per
 * suite), metrics.jsonl (one line per corruption and severity, with the per-step accuracy) and two
 * pictures (accuracy against severity; accuracy along the relaxation).
 */
import path from 'node:path';
import { makeRng } from '../../base/rng.js';
import { subset } from '../../data/index.js';
import { selectCorruptions } from '../../data/corruptions.js';
import { accuracyWithSteps, corruptionAccuracy } from '../../attacks/corruption-accuracy.js';
import { openRunFolder } from '../../runs/run-folder.js';
import { renderLinePlot } from '../../runs/svg-plot.js';
import { liveTensorCount } from '../../tensor/index.js';
import { defaultRunFolder, openModelCommand, positiveInteger } from '../../app/model-source.js';

export interface CorruptOptions {
  readonly corruptions?: string;
  readonly examples?: string;
  readonly batchSize?: string;
  readonly out?: string;
  readonly backend?: string;
  readonly seed?: number;
  readonly dataDir?: string;
  readonly quiet?: boolean;
}

export async function corruptCommand(specOrRun: string, options: CorruptOptions): Promise<void> {
  const corruptions = selectCorruptions((options.corruptions ?? 'all').split(',').map((s) => s.trim()));
  const examples = positiveInteger(options.examples, '--examples', 1000);
  const batchSize = positiveInteger(options.batchSize, '--batch-size', 250);
  const { backend, seed, say, tensorsBefore: before, source, spec, classifier } = await openModelCommand(specOrRun, options);
  const data = subset(source.data.test, 0, Math.min(examples, source.data.test.count));
  const folder = openRunFolder(options.out ?? defaultRunFolder(`corrupt-${spec.name}`));
  const began = performance.now();
  try {
    folder.writeJson('corrupt.json', { model: specOrRun, classifier: classifier.name, relaxation: classifier.relaxation ?? null, corruptions: corruptions.map((c) => c.name), examples: data.count, backend, seed });
    const clean = accuracyWithSteps(classifier, data, batchSize);
    say(`clean accuracy ${(100 * clean.accuracy).toFixed(1)}% (${classifier.name}, ${data.count} test examples)`);
    folder.appendMetrics({ corruption: 'clean', severity: 0, accuracy: clean.accuracy, steps: clean.steps, accuracy_per_step: clean.perStep });
    const results = corruptionAccuracy(classifier, data, corruptions, makeRng(seed), batchSize, (r) => {
      say(`${r.corruption} severity ${r.severity}: ${(100 * r.result.accuracy).toFixed(1)}%`);
      folder.appendMetrics({ corruption: r.corruption, severity: r.severity, accuracy: r.result.accuracy, steps: r.result.steps, accuracy_per_step: r.result.perStep });
    });
    const accuracy: Record<string, Record<string, number>> = {};
    for (const r of results) (accuracy[r.corruption] ??= {})[String(r.severity)] = r.result.accuracy;
    const meanOf = (suite: string) => {
      const values = results.filter((r) => r.suite === suite).map((r) => r.result.accuracy);
      return values.length ? values.reduce((s, v) => s + v, 0) / values.length : null;
    };
    const metrics = {
      clean_accuracy: clean.accuracy,
      accuracy,
      mean_accuracy_mnist_c: meanOf('mnist-c'),
      mean_accuracy_cifar_10_c_severities: meanOf('cifar-10-c'),
      examples: data.count,
      model: classifier.name,
    };
    folder.writeJson('summary.json', { spec: specOrRun, backend, seed, seconds: Number(((performance.now() - began) / 1000).toFixed(3)), metrics });
    const graded = corruptions.filter((c) => c.severities > 1);
    if (graded.length) {
      folder.writeText(
        'accuracy-vs-severity.svg',
        renderLinePlot({
          title: `Accuracy under corruption (${classifier.name})`,
          xLabel: 'severity (0 = clean)',
          yLabel: 'accuracy',
          series: graded.map((c) => ({ name: c.name.replace('cifar-10-c/', ''), x: [0, 1, 2, 3, 4, 5], y: [clean.accuracy, ...[1, 2, 3, 4, 5].map((s) => accuracy[c.name]![String(s)]!)] })),
        }),
      );
    }
    const strongest = results.filter((r) => r.severity === Math.max(...results.filter((q) => q.corruption === r.corruption).map((q) => q.severity))).slice(0, 9);
    folder.writeText(
      'accuracy-per-step.svg',
      renderLinePlot({
        title: 'Readout accuracy along the relaxation (clean and each corruption at its highest severity)',
        xLabel: 'step',
        yLabel: 'accuracy',
        series: [{ name: 'clean', x: [...clean.steps], y: [...clean.perStep] }, ...strongest.map((r) => ({ name: r.corruption, x: [...r.result.steps], y: [...r.result.perStep] }))],
      }),
    );
    classifier.dispose();
    const leaked = liveTensorCount() - before;
    if (leaked !== 0) throw new Error(`internal error: the corruption evaluation left ${leaked} tensors allocated`);
    folder.commit();
    process.stdout.write(`clean accuracy ${clean.accuracy}; mean accuracy MNIST-C ${metrics.mean_accuracy_mnist_c}, CIFAR-10-C-style severities ${metrics.mean_accuracy_cifar_10_c_severities}\n`);
    process.stdout.write(`run folder ${path.relative(process.cwd(), folder.destination) || '.'}/: ${folder.files().join(', ')}\n`);
  } catch (e) {
    folder.abort();
    throw e;
  }
}
