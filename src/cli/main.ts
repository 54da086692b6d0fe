#!/usr/bin/env node
/**
 * The `neurodyn` command. Commands are thin: they parse options, call the library and print. Any
 * NeurodynError becomes one line on stderr and a non-zero exit code, never a stack trace; set
 * NEURODYN_DEBUG=1 to see stacks of unexpected errors.
 */
import { Command, InvalidArgumentError } from 'commander';
import { isNeurodynError } from '../core/errors.js';
import { backendsCommand } from './commands/backends.js';
import { runCommand } from './commands/run.js';
import { schemaCommand } from './commands/schema.js';
import { validateCommand } from './commands/validate.js';
import { listCommand } from './commands/list.js';

function seedOption(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('a seed is a non-negative integer');
  return n;
}

export function program(): Command {
  const cli = new Command('neurodyn')
    .description('Simulate brain-inspired networks as dynamical systems, attack them, learn locally, estimate neuromorphic cost.')
    .version('0.1.0')
    .showHelpAfterError('(run neurodyn help for the commands)');
  cli
    .command('run')
    .description('run a sim spec and write a run folder (spec.json, metrics.jsonl, summary.json, traces, pictures)')
    .argument('<spec>', 'a sims/*.json file')
    .option('--out <dir>', 'run folder (default runs/<name>-<time>)')
    .option('--backend <name>', 'tensor backend: wasm, cpu, tensorflow or webgpu (overrides the spec)')
    .option('--seed <n>', 'random seed (overrides the spec)', seedOption)
    .option('--data-dir <dir>', 'folder of MNIST-format IDX files (overrides the spec)')
    .option('--quiet', 'no progress output')
    .action(runCommand);
  cli
    .command('validate')
    .description('check sim specs against the schema and the registries without running them')
    .argument('<specs...>', 'sims/*.json files')
    .action(validateCommand);
  cli.command('backends').description('list the tensor backends and whether each can be used here').action(backendsCommand);
  cli
    .command('schema')
    .description('print the JSON Schema of sim specs (for editors)')
    .option('--out <file>', 'write it to a file instead')
    .action(schemaCommand);
  cli.command('list').description('list the registered systems, jobs, integrators and datasets').action(listCommand);
  return cli;
}

async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (e) {
    if (isNeurodynError(e)) {
      process.stderr.write(`neurodyn: error: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    const err = e as Error;
    process.stderr.write(`neurodyn: internal error: ${err.message}\n`);
    if (process.env.NEURODYN_DEBUG) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write('(set NEURODYN_DEBUG=1 for the stack trace, and please report it)\n');
    process.exitCode = 70;
  }
}

await main(process.argv);
