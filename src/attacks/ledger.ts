/**
 * The per-example record of an attack evaluation: for every example and ε, which attacks broke it, the
 * loss each attack reached, and the strongest adversarial point found, from *every* attack the evaluation
 * ran (the chosen attacks, the diagnostics' sweeps over attack steps and attacker horizons, any follow-up).
 * The worst case is read from here, so no attack the run performed can be left out of it.
 *
 * The loss recorded is the defender's Carlini–Wagner margin max_{i≠y} z_i − z_y at the attack's point (the
 * same scale for every attack, positive exactly when the example is misclassified), whatever loss the
 * attack itself ascended.
 *
 * Breaks carry upwards in ε: a point found inside the ball of radius ε also lies inside every larger ball
 * (same norm, same input range), so an example broken at ε is broken at every ε' > ε; `finish()` applies
 * this and names the attack with the ε it came from ("pgd-attacker-1 (ε 0.1)").
 */
export interface ExampleOutcome {
  readonly example: number;
  readonly epsilon: number;
  readonly label: number;
  readonly cleanPrediction: number;
  readonly cleanCorrect: boolean;
  /** Clean-correct and broken by no attack (false for clean mistakes). */
  readonly robust: boolean;
  /** Attacks that broke it (empty for clean mistakes, which are not attacked). */
  readonly brokenBy: readonly string[];
  /** The margin each attack reached at its point. */
  readonly margin: Readonly<Record<string, number>>;
  /** The stored adversarial point: the attack that found it (null: no attack beat the clean input), the defender's prediction and margin there. */
  readonly worstAttack: string | null;
  readonly prediction: number;
  readonly worstMargin: number;
  /** ‖x' − x‖ of the stored point in the threat norm. */
  readonly distance: number;
}

interface Cell {
  brokenBy: string[];
  margin: Record<string, number>;
  worstAttack: string | null;
  prediction: number;
  worstMargin: number;
  fooled: boolean;
  distance: number;
}

export interface LedgerAttempt {
  readonly epsilon: number;
  readonly attack: string;
  /** Rows of the whole example set the points belong to. */
  readonly rows: readonly number[];
  /** The attack's points, rows.length × d values. */
  readonly points: Float32Array;
  /** The attack's own verdict (for stochastic defenders it may differ from `prediction`). */
  readonly fooled: ArrayLike<number>;
  readonly margin: ArrayLike<number>;
  readonly prediction: ArrayLike<number>;
}

export class ExampleLedger {
  readonly examples: number;
  readonly size: number;
  private readonly cells: Cell[][];
  private readonly points: Float32Array[];
  private readonly clean: Float32Array;

  /**
   * `clean` holds the n × d clean inputs; `labels`, `cleanPrediction` and `cleanMargin` one value per
   * example (the stored point starts as the clean input with its margin, and an attack's point replaces it
   * only if it fools the defender or raises the margin); `norm` is the threat norm distances are measured in.
   */
  constructor(
    clean: Float32Array,
    readonly labels: Int32Array,
    readonly cleanPrediction: Int32Array,
    cleanMargin: ArrayLike<number>,
    readonly epsilons: readonly number[],
    readonly norm: 'linf' | 'l2',
  ) {
    this.examples = labels.length;
    this.size = clean.length / Math.max(1, this.examples);
    this.clean = clean;
    this.cells = epsilons.map(() =>
      Array.from({ length: this.examples }, (_, i) => ({ brokenBy: [], margin: {}, worstAttack: null, prediction: cleanPrediction[i]!, worstMargin: cleanMargin[i]!, fooled: false, distance: 0 })),
    );
    this.points = epsilons.map(() => Float32Array.from(clean));
  }

  cleanCorrect(i: number): boolean {
    return this.cleanPrediction[i] === this.labels[i];
  }

  private index(epsilon: number): number {
    const e = this.epsilons.indexOf(epsilon);
    if (e < 0) throw new Error(`internal error: the ledger has no ε = ${epsilon} (it has ${this.epsilons.join(', ')})`);
    return e;
  }

  private distanceOf(row: number, points: Float32Array, offset: number): number {
    const d = this.size;
    let out = 0;
    for (let j = 0; j < d; j++) {
      const delta = Math.abs(points[offset + j]! - this.clean[row * d + j]!);
      out = this.norm === 'linf' ? Math.max(out, delta) : out + delta * delta;
    }
    return this.norm === 'linf' ? out : Math.sqrt(out);
  }

  /** Adds one attack's points. A fooling point replaces a non-fooling one; among equals, the higher margin wins. */
  record(attempt: LedgerAttempt): void {
    const e = this.index(attempt.epsilon);
    const d = this.size;
    attempt.rows.forEach((row, k) => {
      const cell = this.cells[e]![row]!;
      const fooled = attempt.fooled[k] === 1;
      const margin = attempt.margin[k]!;
      const name = attempt.attack;
      cell.margin[name] = Math.max(cell.margin[name] ?? Number.NEGATIVE_INFINITY, margin);
      if (fooled && !cell.brokenBy.includes(name)) cell.brokenBy.push(name);
      const better = fooled !== cell.fooled ? fooled : margin > cell.worstMargin;
      if (!better) return;
      cell.fooled = cell.fooled || fooled;
      cell.worstAttack = name;
      cell.worstMargin = margin;
      cell.prediction = attempt.prediction[k]!;
      cell.distance = this.distanceOf(row, attempt.points, k * d);
      this.points[e]!.set(attempt.points.subarray(k * d, (k + 1) * d), row * d);
    });
  }

  /** Carries every break to the larger ε (see the module comment). Call once, after the last record. */
  finish(): void {
    const order = this.epsilons.map((eps, e) => ({ eps, e })).sort((a, b) => a.eps - b.eps);
    const d = this.size;
    for (let a = 0; a < order.length; a++) {
      for (let b = a + 1; b < order.length; b++) {
        const from = order[a]!;
        const to = order[b]!;
        for (let i = 0; i < this.examples; i++) {
          const source = this.cells[from.e]![i]!;
          const target = this.cells[to.e]![i]!;
          if (!source.fooled) continue;
          for (const name of source.brokenBy) {
            if (name.includes(' (ε ')) continue;
            const carried = `${name} (ε ${from.eps})`;
            if (!target.brokenBy.includes(name) && !target.brokenBy.includes(carried)) target.brokenBy.push(carried);
          }
          if (!target.fooled) {
            target.fooled = true;
            target.worstAttack = `${source.worstAttack} (ε ${from.eps})`;
            target.worstMargin = source.worstMargin;
            target.prediction = source.prediction;
            target.distance = source.distance;
            this.points[to.e]!.set(this.points[from.e]!.subarray(i * d, (i + 1) * d), i * d);
          }
        }
      }
    }
  }

  /** 1 where the example is clean-correct and no attack broke it at ε. */
  robust(epsilon: number): Uint8Array {
    const e = this.index(epsilon);
    return Uint8Array.from(this.cells[e]!, (c, i) => (this.cleanCorrect(i) && !c.fooled ? 1 : 0));
  }

  robustAccuracy(epsilon: number, rows?: readonly number[]): number {
    const robust = this.robust(epsilon);
    const over = rows ?? Array.from({ length: this.examples }, (_, i) => i);
    return over.length ? over.reduce((s, i) => s + robust[i]!, 0) / over.length : Number.NaN;
  }

  /** The stored adversarial points at ε, n × d (the clean input where nothing was attacked). */
  adversarial(epsilon: number): Float32Array {
    return this.points[this.index(epsilon)]!;
  }

  /** The smallest distance of a fooling point over every ε, per example (∞ where none fooled it). */
  smallestFoolingDistance(): Float32Array {
    const out = new Float32Array(this.examples).fill(Number.POSITIVE_INFINITY);
    for (const row of this.cells) row.forEach((c, i) => c.fooled && (out[i] = Math.min(out[i]!, c.distance)));
    return out;
  }

  outcomes(): ExampleOutcome[] {
    const out: ExampleOutcome[] = [];
    for (let i = 0; i < this.examples; i++) {
      this.epsilons.forEach((epsilon, e) => {
        const c = this.cells[e]![i]!;
        const cleanCorrect = this.cleanCorrect(i);
        out.push({
          example: i,
          epsilon,
          label: this.labels[i]!,
          cleanPrediction: this.cleanPrediction[i]!,
          cleanCorrect,
          robust: cleanCorrect && !c.fooled,
          brokenBy: [...c.brokenBy],
          margin: { ...c.margin },
          worstAttack: c.worstAttack,
          prediction: c.prediction,
          worstMargin: c.worstMargin,
          distance: c.distance,
        });
      });
    }
    return out;
  }
}
