/** Retry schedule of failed webhook attempts. */

/** Longest wait between two attempts. */
export const MAX_BACKOFF_MS = 3_600_000;
const FACTOR = 5;

/**
 * Delay before the next attempt after `attempts` failed ones: base, base×5, base×25, … capped at one hour. Up to 10%
 * jitter keeps the retries of many deliveries from arriving at an endpoint in lockstep.
 */
export function backoffMs(attempts: number, baseMs: number, random: () => number = Math.random): number {
  const exp = baseMs * FACTOR ** Math.max(0, attempts - 1);
  return Math.round(Math.min(exp * (1 + 0.1 * random()), MAX_BACKOFF_MS));
}
