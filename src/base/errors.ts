/**
 * Typed errors. Every error a user can trigger says what was wrong and what to change; the CLI prints
 * `error.message` alone (no stack) for any `NeurodynError` and exits non-zero.
 */
export class NeurodynError extends Error {
  /** Process exit code the CLI uses for this kind of error. */
  readonly exitCode: number = 1;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A spec, option or argument is malformed. `path` is the JSON path (`system.params.dt`) or the option name. */
export class SpecError extends NeurodynError {
  override readonly exitCode = 2;
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(path ? `${path}: ${detail}` : detail);
  }
}

/** A name looked up in a registry (system kind, integrator, backend, ...) is not registered. */
export class UnknownNameError extends SpecError {
  constructor(path: string, what: string, name: string, known: readonly string[]) {
    super(path, `unknown ${what} ${JSON.stringify(name)}; registered: ${known.map((k) => JSON.stringify(k)).join(', ') || '(none)'}`);
  }
}

/** Data (a dataset folder, a file) is missing or unreadable. */
export class DataError extends NeurodynError {
  override readonly exitCode = 3;
}

/** The file system refused a write (the path, and why: permission, disk full, a file where a folder is needed). */
export class OutputError extends NeurodynError {
  override readonly exitCode = 6;
}

/** A backend cannot be used on this machine; the message says why. */
export class BackendError extends NeurodynError {
  override readonly exitCode = 4;
}

/** The dynamics produced NaN or Inf; names the variable and the step. */
export class DivergenceError extends NeurodynError {
  override readonly exitCode = 5;
  constructor(
    readonly variable: string,
    readonly step: number,
    message: string,
  ) {
    super(message);
  }
}

export function isNeurodynError(e: unknown): e is NeurodynError {
  return e instanceof NeurodynError;
}

/**
 * Runs `build` and re-throws its SpecErrors with `prefix` in front of their path. Library code names the
 * option as its caller wrote it (`features`, `beta`); the layer that read the option from a spec section
 * adds where it sits in the spec (`system.features`, `job.beta`).
 */
export function withSpecPath<T>(prefix: string, build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof SpecError && !(e instanceof UnknownNameError)) throw new SpecError(e.path ? `${prefix}.${e.path}` : prefix, e.detail);
    throw e;
  }
}
