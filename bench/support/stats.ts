/** Runs `fn` `runs` times (after one warm-up) and returns the median wall time in seconds. */
/** Median wall time of `runs` calls of `fn`, after `warmups` untimed ones (JIT, sockets, first GCs). */
export async function medianSeconds(runs: number, fn: () => Promise<unknown>, warmups = 1): Promise<number> {
  for (let i = 0; i < warmups; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export const fmt = (seconds: number): string => `${(seconds * 1000).toFixed(0)} ms`;
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
export const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;

/**
 * Runs every contender once per round, in turn, `runs` rounds (after one warm-up round),
 * and returns each one's median wall time in seconds. On a shared machine the load moves
 * within a minute: measured one after the other, contenders meet different loads and the
 * ratio says more about the neighbours than about them.
 */
export async function interleavedMedians<K extends string>(runs: number, contenders: Record<K, () => Promise<unknown>>): Promise<Record<K, number>> {
  const entries = Object.entries(contenders) as [K, () => Promise<unknown>][];
  for (const [, fn] of entries) await fn();
  const times = new Map<K, number[]>(entries.map(([k]) => [k, []]));
  for (let i = 0; i < runs; i++) {
    for (const [k, fn] of entries) {
      const t0 = performance.now();
      await fn();
      times.get(k)!.push((performance.now() - t0) / 1000);
    }
  }
  const medians = {} as Record<K, number>;
  for (const [k, t] of times) medians[k] = t.sort((a, b) => a - b)[Math.floor(t.length / 2)] as number;
  return medians;
}
