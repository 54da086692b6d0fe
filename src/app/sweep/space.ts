/**
 * The configurations a sweep spec describes. `grid`: every combination of the parameters' values, the
 * first parameter varying slowest. `random`: `samples` draws, configuration k drawn from the stream
 * `rng(seed).split("configuration-k").split(path)`, so a configuration depends only on the sweep's seed,
 * k and its own parameter, never on how many draws came before or which other parameters exist.
 */
import { makeRng, type Rng } from '../../base/rng.js';
import type { Parameter, SweepSpec } from './sweep-schema.js';

/** Parameter path → the value this configuration gives it. */
export type Configuration = Readonly<Record<string, unknown>>;

function draw(parameter: Parameter, rng: Rng): unknown {
  switch (parameter.distribution) {
    case 'grid':
    case 'categorical':
      return parameter.values![rng.int(parameter.values!.length)];
    case 'uniform':
      return parameter.min! + (parameter.max! - parameter.min!) * rng.uniform();
    case 'log-uniform':
      return Math.exp(Math.log(parameter.min!) + (Math.log(parameter.max!) - Math.log(parameter.min!)) * rng.uniform());
    case 'integer':
      return parameter.min! + rng.int(parameter.max! - parameter.min! + 1);
  }
}

export function gridConfigurations(parameters: SweepSpec['parameters']): Configuration[] {
  let configurations: Record<string, unknown>[] = [{}];
  for (const [path, parameter] of Object.entries(parameters)) {
    configurations = configurations.flatMap((c) => parameter.values!.map((v) => ({ ...c, [path]: v })));
  }
  return configurations;
}

export function randomConfigurations(parameters: SweepSpec['parameters'], seed: number, samples: number): Configuration[] {
  const root = makeRng(seed);
  return Array.from({ length: samples }, (_, k) => {
    const stream = root.split(`configuration-${k}`);
    return Object.fromEntries(Object.entries(parameters).map(([path, p]) => [path, draw(p, stream.split(path))]));
  });
}

export function configurations(sweep: SweepSpec): Configuration[] {
  return sweep.method === 'grid' ? gridConfigurations(sweep.parameters) : randomConfigurations(sweep.parameters, sweep.seed, sweep.samples!);
}
