import { smallestP, type GateDesign, type MetricComparison } from './gate-stats.js';

/** One look of a gate: after `trialsPerArm` trials per arm the metrics are compared at these levels. */
export interface GateLook {
  trialsPerArm: number;
  /** The family-wise level of this look's Holm family: the share of `--alpha` spent here. */
  alpha: number;
  /**
   * The confidence of this look's change intervals (a metric passes unchanged when the interval's worse end
   * is below `--detect`); 1 where no interval is spent (this look cannot pass a metric that way).
   */
  confidence: number;
}

/** Kim-DeMets power-family spending: the share of an error budget spent by information fraction t is t^ρ. */
const RHO = 3;

/**
 * The looks a gate makes and the error each may spend.
 *
 * `--trials N` looks once, after N trials per arm, at `alpha` and `confidence`.
 *
 * `--trials auto` adds a pair at a time from 4 up to `maxTrials` trials per arm and stops at the first look
 * that decides (`lookDecides`). Testing every look at the full α, as the gate once did, reports a
 * regression that is not there in more than α of A/A gates: 11 % at α 0.05 with 4 to 10 trials when the
 * noise keeps every look open (test/unit/gate-sequential.test.ts). Here the looks share α instead:
 *
 * - The look after n trials per arm spends α · (t³ − t₀³), t = n / `maxTrials` and t₀ that of the look
 *   before — the Kim-DeMets power family with ρ = 3, whose boundaries resemble O'Brien-Fleming's — and the
 *   looks are joined by Bonferroni: P(any look reports a false regression) ≤ the sum of the shares = α,
 *   whatever the dependence between looks and between metrics (Holm holds each look's family at its
 *   share). The intervals that let a metric pass unchanged spend their one-sided error, (1 − `confidence`)
 *   / 2, the same way, so a real `--detect` regression is not passed more often for being looked at more
 *   often.
 * - Bonferroni rather than Pocock or O'Brien-Fleming boundaries proper: those gain power from the
 *   correlation between looks under normal increments, but the exact rank test on 4 to 10 trials is
 *   discrete and the dependence between metrics unknown, so their levels would be approximations. The union
 *   bound holds exactly; its cost is to be conservative (simulated: 2 % false positives at α 0.05 in the
 *   case above).
 * - ρ = 3: 4 + 4 or 5 + 5 trials can reject only extreme outcomes anyway (the smallest exact p is 1/70,
 *   1/252), so little is spent early and most is kept for the last looks, where it buys power: from 4 to
 *   10 trials the last look tests at α · 0.27, where seven equal shares would test each at α / 7.
 * - A share below the smallest p the exact test can reach with that many trials (`smallestP`) could never
 *   be used: it is carried to the next look instead — α's share decides whether the look is made at all,
 *   the interval's whether it is spent there. Both depend on the number of trials only, never on what the
 *   trials measured, so the bound stands. The last look spends all that is left.
 */
export function plannedLooks(
  o: { trials: number; auto: boolean; maxTrials: number; alpha: number },
  confidence: number,
  design: GateDesign = 'unpaired',
): GateLook[] {
  if (!o.auto) return [{ trialsPerArm: o.trials, alpha: o.alpha, confidence }];
  const tail = (1 - confidence) / 2;
  const looks: GateLook[] = [];
  let alphaSpent = 0;
  let tailSpent = 0;
  for (let n = o.trials; n <= o.maxTrials; n++) {
    const last = n === o.maxTrials;
    const spent = last ? 1 : (n / o.maxTrials) ** RHO;
    const alpha = o.alpha * (spent - alphaSpent);
    if (!last && alpha < smallestP(n, design)) continue;
    alphaSpent = spent;
    const tailHere = tail * (spent - tailSpent);
    const spendTail = last || tailHere >= smallestP(n, design);
    if (spendTail) tailSpent = spent;
    looks.push({ trialsPerArm: n, alpha, confidence: spendTail ? 1 - 2 * tailHere : 1 });
  }
  return looks;
}

/** The planned look a comparison of `trialsPerArm` trials per arm is judged at: the last one reached, else the first. */
export function lookFor(looks: readonly GateLook[], trialsPerArm: number): GateLook {
  const reached = looks.filter((l) => l.trialsPerArm <= trialsPerArm);
  return reached[reached.length - 1] ?? looks[0]!;
}

/**
 * Whether a look ends the gate: a gated metric regressed, or no gated metric is left that more trials
 * could decide (one a trial did not measure stays undecided whatever follows).
 */
export function lookDecides(comparison: readonly MetricComparison[]): boolean {
  const gated = comparison.filter((c) => c.gated !== false);
  return (
    gated.some((c) => c.verdict === 'regression') ||
    !gated.some((c) => c.verdict === 'inconclusive' && c.unmeasured === undefined)
  );
}
