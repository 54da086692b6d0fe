/**
 * A family is everything one kind of brain-inspired network is in neurodyn: its systems (the maths), its
 * learning rules and jobs, how a trained model of it becomes an attackable classifier, how it is counted
 * and emulated on neuromorphic hardware, and how it maps onto NIR. It lives in one folder,
 * `src/families/<name>/`, whose `index.ts` exports one `Family` object; `src/families/index.ts` registers it
 * with one `registerFamily` line, which feeds the shared registries (systems, jobs, classifier adapters,
 * hardware adapters, NIR mappers) and refuses duplicates.
 *
 * In the spirit of Lava's `proc/<name>/` folders (a process, its ports and its models side by side) and
 * Nengo's builder registry (one build function per object type, looked up by type): the generic machinery
 * (core/, learning/, attacks/, hardware/, export/) never names a family; a family plugs its parts into it.
 *
 * Every system of a family declares every capability of `CAPABILITIES` as 'yes' or 'no: <reason>', so
 * `neurodyn list` can print who supports what, and registration fails when a declaration and the parts
 * disagree (an 'attack: yes' without a classifier, a classifier with 'attack: no: …').
 *
 * `system*.ts` files of a family import only `core/`, `tensor/` and `base/`: the maths stays importable on
 * its own (test/architecture enforces it).
 */
import type { z } from 'zod';
import type { Rng } from '../base/rng.js';
import type { DynamicalSystem } from '../core/system.js';
import type { TensorTree } from '../core/tree.js';
import type { Split } from '../data/index.js';
import type { ClassifierAdapter } from '../attacks/models/source.js';
import type { HardwareAdapter } from '../hardware/adapter.js';
import type { NirMapper } from '../export/nir-mapping.js';
import type { Progress } from '../runs/progress.js';
import type { RunFolder } from '../runs/run-folder.js';
import type { ProbeSettings, RunSettings } from '../core/run-settings.js';
import type { DataSettings, DatasetShape } from '../data/index.js';
import type { BackendName } from '../tensor/backend.js';

/** What a system can be used for; the columns of `neurodyn list`. */
export const CAPABILITIES = [
  'simulate',
  'energy',
  'train-local',
  'train-bptt',
  'attack',
  'corrupt',
  'hardware',
  'spiking',
  'nir',
  'traces',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** 'yes', or 'no: ' followed by the reason a user reads in `neurodyn list`. */
export type Support = 'yes' | `no: ${string}`;

/** One row of the support table: a declaration for every capability. */
export type SupportRow = Readonly<Record<Capability, Support>>;

/** A validated spec with its defaults filled in (the schema itself is assembled in spec/ from the registries). */
export interface ResolvedSpec {
  readonly $schema?: string;
  readonly name: string;
  readonly description?: string;
  readonly seed: number;
  readonly backend: BackendName;
  readonly data: DataSettings;
  readonly system: { readonly kind: string } & Readonly<Record<string, unknown>>;
  readonly run: RunSettings;
  readonly probes: readonly ProbeSettings[];
  readonly job: { readonly kind: string } & Readonly<Record<string, unknown>>;
}

export interface SystemEntry {
  readonly kind: string;
  readonly description: string;
  /** Options in the spec (without `kind`); strict, so unknown keys are errors. */
  readonly options: z.ZodObject;
  /** State variables and derived quantities a probe may record, for these options. */
  readonly variables: (options: any) => readonly string[];
  /** Builds the system from its validated options and the sizes the data imposes. */
  readonly create: (options: any, dims: { readonly inputSize: number }) => DynamicalSystem<any, any, any>;
  /**
   * A small configuration the shared tests build (test/families/support.test.ts): options as a spec would
   * write them, the input size, and a function making params and input for a batch of that size from a
   * seeded generator. The shared tests relax it and check the declarations (probe variables, energy)
   * against what the built system really does.
   */
  readonly example: SystemExample;
}

export interface SystemExample {
  readonly options: Readonly<Record<string, unknown>>;
  readonly inputSize: number;
  /** Parameters and input for `batch` examples, built with tfjs from `rng` (the caller frees them). */
  readonly make: (system: DynamicalSystem<any, any, any>, batch: number, rng: Rng) => { params: TensorTree; input: TensorTree };
}

export interface JobContext<O> {
  readonly spec: ResolvedSpec;
  readonly options: O;
  readonly system: SystemEntry;
  readonly data: Split;
  readonly rng: Rng;
  readonly folder: RunFolder;
  readonly progress: (label: string, total: number) => Progress;
  /** One line for the person running it (stdout). */
  readonly say: (line: string) => void;
  /** Continue from the checkpoints an interrupted run with the same spec and destination left (`--resume`). */
  readonly resume?: boolean;
}

export type Metrics = Readonly<Record<string, unknown>>;

/** What `neurodyn run` does with a spec whose `job.kind` names it. */
export interface JobEntry<O = any> {
  readonly kind: string;
  readonly description: string;
  readonly options: z.ZodObject;
  /** Systems the job can drive. */
  readonly systems: readonly string[];
  /**
   * Whether the job records the spec's probes on its evaluation relaxations (src/families/traces.ts): 'yes',
   * or 'no: <reason>', and then a spec with probes is refused at validate and run time, naming the job and
   * the probe. A function decides per spec (a job that relaxes the spec's system only in some settings).
   */
  readonly traces: Support | ((spec: ResolvedSpec) => Support);
  /**
   * Checks of the whole spec that need the system or the data's shape (layer widths against the class
   * count, run settings the job cannot honour). validateSpec calls it, so `validate` and `run` refuse the
   * same specs with the same message; `data` is undefined where only loading the files would tell (an
   * IDX folder), and the job calls it again with the loaded shape. Throws a SpecError.
   */
  check?(spec: ResolvedSpec, system: SystemEntry, data: DatasetShape | undefined): void;
  run(context: JobContext<O>): Promise<Metrics>;
}

export interface Family {
  /** Folder name under src/families/, e.g. 'equilibrium-prop'. */
  readonly name: string;
  readonly description: string;
  readonly systems: readonly SystemEntry[];
  readonly jobs: readonly JobEntry[];
  /** Attack and corruption classifiers, by system kind. */
  readonly classifiers?: Readonly<Record<string, ClassifierAdapter>>;
  /** Hardware networks (counts, costing and spiking emulation), by system kind. */
  readonly hardware?: Readonly<Record<string, HardwareAdapter>>;
  /** Rate-form NIR mappers, by system kind (a mapper may throw UnmappableError naming what NIR lacks). */
  readonly nir?: Readonly<Record<string, NirMapper>>;
  /** The support table's rows, by system kind: every system, every capability. */
  readonly support: Readonly<Record<string, SupportRow>>;
}
