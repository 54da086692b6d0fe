/** The report page's data for one run folder (JSON, shared by the Node side and the page's script). */
import type { Figure } from '../../runs/plot/figure.js';

export interface ReportImage {
  readonly name: string;
  readonly caption: string;
  readonly dataUri: string;
}

export interface ReportRun {
  readonly name: string;
  readonly dir: string;
  /** What produced the folder: run, compare, attack or corrupt, and the job kind. */
  readonly kind: string;
  readonly description?: string;
  readonly summary: ReadonlyArray<readonly [string, string]>;
  readonly spec?: unknown;
  readonly figures: readonly Figure[];
  readonly images: readonly ReportImage[];
  readonly warnings: readonly string[];
  readonly files: readonly string[];
}

