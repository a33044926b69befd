/** Runs `fn` `runs` times (after one warm-up) and returns the median wall time in seconds. */
export async function medianSeconds(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
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
