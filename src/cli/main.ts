#!/usr/bin/env node
/**
 * The `neurodyn` command. Commands are thin: they parse options, call the library and print. Any
 * NeurodynError becomes one line on stderr and a non-zero exit code, never a stack trace; set
 * NEURODYN_DEBUG=1 to see stacks of unexpected errors.
 */
import { Command, InvalidArgumentError } from 'commander';
import { isNeurodynError } from '../base/errors.js';
import { fsCause } from '../runs/output-path.js';
import { backendsCommand } from './commands/backends.js';
import { runCommand } from './commands/run.js';
import { compareCommand } from './commands/compare.js';
import { schemaCommand } from './commands/schema.js';
import { validateCommand } from './commands/validate.js';
import { listCommand } from './commands/list.js';
import { energyCommand } from './commands/energy.js';
import { exportCommand } from './commands/export.js';
import { profilesCommand } from './commands/profiles.js';
import { attackCommand } from './commands/attack.js';
import { corruptCommand } from './commands/corrupt.js';
import { sweepCommand } from './commands/sweep.js';
import { workerCommand } from './commands/worker.js';
import { reportCommand } from './commands/report.js';
import { viewCommand } from './commands/view.js';
import { relaxCommand } from './commands/relax.js';
import { setNativeThreads } from '../tensor/index.js';

function threadsOption(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !(n >= 1)) throw new InvalidArgumentError('threads is a positive integer');
  return n;
}

function seedOption(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('a seed is a non-negative integer');
  return n;
}

export function program(): Command {
  const cli = new Command('neurodyn')
    .description('Simulate brain-inspired networks as dynamical systems, attack them, learn locally, estimate neuromorphic cost.')
    .version('0.1.0')
    .showHelpAfterError('(run neurodyn help for the commands)')
    .option('--threads <n>', 'threads of the native kernels (OpenBLAS and oneDNN; default: the number of cores)', threadsOption)
    .hook('preAction', (command) => {
      const { threads } = command.opts<{ threads?: number }>();
      if (threads !== undefined) setNativeThreads(threads);
    });
  cli
    .command('run')
    .description('run a sim spec and write a run folder (spec.json, metrics.jsonl, summary.json, traces, pictures)')
    .argument('<spec>', 'a sims/*.json file')
    .option('--out <dir>', 'run folder (default runs/<name>-<time>)')
    .option('--backend <name>', 'tensor backend: wasm, cpu, tensorflow or webgpu (overrides the spec)')
    .option('--seed <n>', 'random seed (overrides the spec)', seedOption)
    .option('--data-dir <dir>', 'folder of MNIST-format IDX files (overrides the spec)')
    .option('--quiet', 'no progress output')
    .option('--resume', 'continue an interrupted training from its checkpoints (same spec and --out)')
    .action(runCommand);
  cli
    .command('compare')
    .description('train one network two ways (e.g. EP vs BPTT) from the same initialisation and write both side by side: per-epoch accuracy, seconds, peak memory, learning curves; or compare two attack run folders example by example')
    .argument('<spec>', 'a sims/*.json file with a comparison job (ep-vs-bptt), or an attack run folder')
    .argument('[other]', 'with an attack run folder: the second attack run folder')
    .option('--out <dir>', 'run folder (default runs/<name>-<time>); pass it again with --resume after an interrupt')
    .option('--backend <name>', 'tensor backend: wasm, cpu, tensorflow or webgpu (overrides the spec)')
    .option('--seed <n>', 'random seed (overrides the spec)', seedOption)
    .option('--data-dir <dir>', 'folder of MNIST-format IDX files (overrides the spec)')
    .option('--quiet', 'no progress output')
    .option('--resume', 'continue an interrupted comparison from its checkpoints (same spec and --out)')
    .action(compareCommand);
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
    .option('--sweep', 'the schema of sweep files (sims/*.sweep.json) instead')
    .action(schemaCommand);
  cli.command('list').description('list the registered systems, jobs, integrators and datasets').action(listCommand);
  cli.command('profiles').description('list the hardware profiles with their main figures').action(profilesCommand);
  cli
    .command('energy')
    .description('estimate energy, latency, synaptic operations per second and fit per inference on hardware profiles')
    .argument('<run-folder|spec>', 'a run folder (with a trained model) or a sims/*.json spec')
    .option('--profile <id...>', "profile ids, 'all', or paths of profile JSON files", ['loihi2'])
    .option('--count <n>', 'test inferences to measure', '100')
    .option('--emulate <steps>', 'price the spiking emulation (this many time steps) instead of the float relaxation')
    .option('--engine <name>', 'emulation engine: gpujs or tfjs')
    .option('--backend <name>', 'tensor backend (overrides the spec)')
    .option('--reset <mode>', "for --emulate: after a spike a neuron 'subtract's its threshold (default) or goes to 'zero' (NIR IF)")
    .option('--calibrate <n>', 'test examples (the first ones) that calibrate spike values and the input scale', '100')
    .option('--out <file>', 'where to write the JSON report')
    .action(energyCommand);
  cli
    .command('export')
    .description('export a network as NIR, or recorded traces as NIRData HDF5 or .npz')
    .argument('<run-folder>', 'a run folder (or, for --format nir, a spec)')
    .requiredOption('--format <format>', 'nir, nirdata or npz')
    .option('--as <form>', "for nir: 'spiking' (the integrate-and-fire emulation; the default where a family has one) or 'rate' (the family's float dynamics)")
    .option('--profile <id>', 'for --as spiking: quantize to this profile\'s weight and state bits')
    .option('--reset <mode>', "for --as spiking: 'subtract' (default; I + Threshold nodes) or 'zero' (plain IF nodes); price the same with energy --reset")
    .option('--calibrate <n>', 'for --as spiking: test examples (the first ones) that calibrate spike values and the input scale', '100')
    .option('--spikes <steps>', 'for nirdata: also run the spiking emulation this many steps and add its spike rasters as EventData')
    .option('--count <n>', 'for --spikes: test images emulated (default 16)')
    .option('--out <file>', 'output file')
    .action(exportCommand);
  cli
    .command('relax')
    .description('relax chosen test examples of a trained run folder (clean, corrupted, adversarial) and record probes per example, for export')
    .argument('<run-folder>', 'the run folder of a training run (spec.json and model/)')
    .option('--probe <variable[:every]>', 'a variable to record (repeatable; default the run spec\'s probes, else every variable)', (v: string, all: string[] = []) => [...all, v])
    .option('--examples <list>', 'comma-separated test-set indices (default the first --count)')
    .option('--count <n>', 'relax the first n test examples (default 8)')
    .option('--corrupt <name[:severity]>', 'also relax corrupted inputs, e.g. mnist-c/fog:2 (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--attack <attack:eps[:norm[:steps]]>', 'also relax adversarial inputs, e.g. pgd:0.1 (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--no-clean', 'skip the clean inputs')
    .option('--model <dir>', "which saved model of the run folder (model, model-bptt, model-c2, …)")
    .option('--max-steps <n>', "relax up to n steps instead of the run's run.maxSteps")
    .option('--out <dir>', 'run folder (default runs/relax-<name>-<time>)')
    .option('--backend <name>', 'tensor backend (default the run\'s)')
    .option('--seed <n>', 'random seed (corruptions, attacks)', seedOption)
    .option('--quiet', 'no progress lines')
    .action(relaxCommand);
  cli
    .command('attack')
    .description('evaluate robustness under adversarial attack through the dynamics and write a run folder (summary.json, accuracy-vs-eps.svg, energy-trajectories.svg, diagnostics.json)')
    .argument('<spec-or-run>', 'a sims/*.json spec or a run folder (with its trained model)')
    .option('--threat <norm>', 'threat model: linf or l2', 'linf')
    .option('--eps <list>', 'comma-separated radii (default linf 0.05,0.1,0.2,0.3; l2 0.5,1,2,3)')
    .option('--attacks <list>', 'comma-separated: fgsm, pgd, pgd-margin, pgd-dlr, apgd-ce, apgd-dlr, square, spsa, transfer (default pgd,apgd-dlr,square; --full: pgd,apgd-ce,apgd-dlr,square)')
    .option('--gradient <mode>', "how the attacker differentiates the relaxation: none, unrolled, truncated(K), implicit", 'unrolled')
    .option('--attacker-steps <n>', "the attacker unrolls this many steps instead of the model's own (success is judged on the model's own)")
    .option('--bpda', "BPDA: the attacker differentiates the hard-sigmoid clips of an equilibrium-prop net as straight-through, or a cnn-f net's AdaReLU/AdaPool switches through a sigmoid surrogate (forward unchanged)")
    .option('--relax-steps <n>', "the defender relaxes up to this many steps instead of the spec's run.maxSteps")
    .option('--tolerance <t>', 'the defender stops relaxing when no unit moves by more than t in a step (a trained EP spec has no run.converge)')
    .option('--step-weighting <w>', 'loss on intermediate states: final, uniform or linear weights over steps (needs unrolled)', 'final')
    .option('--eot <k>', 'average gradients over k draws of a stochastic model (EOT)')
    .option('--full', 'the complete protocol: 200 examples, PGD-40, APGD-CE and APGD-DLR 100, Square 5000 queries, 8 bisections (the default budget finishes in minutes)')
    .option('--steps <n>', 'PGD steps (default 20, --full 40; step 2.5·ε/steps)')
    .option('--apgd-steps <n>', 'APGD iterations (default 25, --full 100)')
    .option('--restarts <n>', 'random restarts of PGD and APGD (default 1)')
    .option('--queries <n>', 'Square queries per example (default 300, --full 5000)')
    .option('--examples <n>', 'test examples to attack, from the start of the test split (default 100, --full 200)')
    .option('--bisections <n>', 'bisection rounds of the minimal-perturbation search (default 5, --full 8)')
    .option('--diagnostic-examples <n>', 'examples the diagnostics and their sweeps run on (default 16, --full 32)')
    .option('--batch-size <n>', 'examples attacked together (default 100)')
    .option('--order <order>', 'independent (every attack on every example) or cascade (AutoAttack: only still-robust ones)', 'independent')
    .option('--transfer-from <spec-or-run>', 'source model of the transfer attack (default: the model itself cut to --transfer-steps steps)')
    .option('--transfer-steps <n>', 'steps of that early-state surrogate (default: a tenth of the model\'s steps, at least 1)')
    .option('--no-min-perturbation', 'skip the minimal-perturbation search')
    .option('--no-diagnostics', 'skip the attractor diagnostics')
    .option('--out <dir>', 'run folder (default runs/attack-<name>-<time>)')
    .option('--backend <name>', 'tensor backend', 'wasm')
    .option('--seed <n>', 'random seed', seedOption)
    .option('--data-dir <dir>', 'folder of MNIST-format IDX files (overrides the spec)')
    .option('--quiet', 'no cost estimate or progress')
    .action(attackCommand);
  cli
    .command('corrupt')
    .description('accuracy under common corruptions (MNIST-C, CIFAR-10-C severities) per corruption, severity and relaxation step; writes a run folder')
    .argument('<spec-or-run>', 'a sims/*.json spec or a run folder (with its trained model)')
    .option('--corruptions <list>', 'comma-separated names (mnist-c/fog, cifar-10-c/contrast, ...) or suites (mnist-c, cifar-10-c, all)', 'all')
    .option('--examples <n>', 'test examples, from the start of the test split (default 1000)')
    .option('--batch-size <n>', 'examples relaxed together (default 250)')
    .option('--out <dir>', 'run folder (default runs/corrupt-<name>-<time>)')
    .option('--backend <name>', 'tensor backend', 'wasm')
    .option('--seed <n>', 'random seed', seedOption)
    .option('--data-dir <dir>', 'folder of MNIST-format IDX files (overrides the spec)')
    .option('--quiet', 'no progress lines')
    .action(corruptCommand);
  cli
    .command('sweep')
    .description('run a sweep (grid or seeded random search over a spec, seeds as an axis, early stopping): trials as child processes here, or on BullMQ workers with --queue; writes a sweep folder (trials/, trials.jsonl, summary.md, plots)')
    .argument('<sweep>', 'a sims/*.sweep.json file')
    .option('--out <dir>', 'sweep folder (default sweeps/<name>-<time>); pass it again with --resume')
    .option('--workers <n>', 'trials at once (default: the number of cores); with --queue, the most trials enqueued at once (default: all)')
    .option('--queue <url>', 'enqueue the trials on BullMQ at redis://HOST:PORT for `neurodyn worker`s')
    .option('--resume', 'continue an interrupted sweep in --out (finished trials are kept; unfinished ones resume from their checkpoints)')
    .option('--retry-failed', 'like --resume, and run the failed trials again')
    .option('--redis-timeout <seconds>', 'with --queue: how long to wait for Redis when it goes away before stopping (default 600)')
    .option('--quiet', 'no progress bar')
    .action(sweepCommand);
  cli
    .command('worker')
    .description('pull sweep trials from a BullMQ queue and run each as a child process (start any number, on any machine that sees the sweep folder)')
    .requiredOption('--queue <url>', 'the Redis of the queue: redis://HOST:PORT')
    .option('--concurrency <n>', 'trials at once (default: the number of cores)')
    .option('--lock-seconds <n>', "job lock; a dead worker's trials are re-delivered after about twice this (default 30)")
    .action(workerCommand);
  cli
    .command('report')
    .description('one self-contained HTML page (charts, pictures, summary, spec; no network needed to view it) for one run folder, or several side by side')
    .argument('<run-folder...>', 'run folders written by run, compare, attack or corrupt')
    .option('--out <file>', 'HTML file to write (default <run-folder>/report.html, or report-<a>-vs-<b>.html for several)')
    .option('--title <text>', 'page title')
    .action(reportCommand);
  cli
    .command('view')
    .description('serve a live view on 127.0.0.1: the model relaxes in the browser (tfjs WebGL), clean and corrupted side by side, its state in the URL')
    .argument('<spec-or-run>', 'a run folder with a trained model, or a sims/*.json spec (Hopfield)')
    .option('--port <n>', 'port on 127.0.0.1 (0: any free one)', '8123')
    .option('--data-dir <dir>', 'folder of MNIST-format IDX files (overrides the spec)')
    .action(viewCommand);
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
    const err = e as NodeJS.ErrnoException;
    // A file-system refusal that no command wrapped: still the user's situation, not a bug; say so plainly.
    const cause = fsCause(err);
    if (cause !== undefined && typeof err.path === 'string') {
      process.stderr.write(`neurodyn: error: cannot ${err.syscall ?? 'use'} ${err.path}: ${cause}\n`);
      process.exitCode = 6;
      return;
    }
    process.stderr.write(`neurodyn: internal error: ${err.message}\n`);
    if (process.env.NEURODYN_DEBUG) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write('(set NEURODYN_DEBUG=1 for the stack trace, and please report it)\n');
    process.exitCode = 70;
  }
}

await main(process.argv);
