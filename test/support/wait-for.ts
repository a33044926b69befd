import { setTimeout as sleep } from 'node:timers/promises';

/** What a condition answers while it is not met yet. */
type NotYet = undefined | null | false;

export interface WaitForOptions {
  /**
   * How long to poll before failing. Generous on purpose: a condition that holds eventually must
   * not fail on a loaded machine, and one that never holds fails all the same, only later.
   */
  timeoutMs?: number;
  /**
   * Fixed pause between polls. Without it the pause starts at 10 ms and grows to 250 ms: quick
   * conditions return quickly, and slow ones (a daemon starting) are not polled in a busy loop.
   */
  intervalMs?: number;
  /** Extra diagnostics for the failure message (e.g. a daemon's log tail). */
  describe?: () => string | Promise<string>;
  /** Stops waiting at once when this returns a reason (e.g. the daemon being waited on has exited). */
  giveUpIf?: () => string | undefined;
}

const DEFAULT_WAIT_MS = 10_000;

/**
 * Polls `condition` until it returns a value that is not undefined, null or false, and returns that
 * value. A condition that throws counts as not met yet (a daemon still starting refuses connections);
 * the last error is in the failure message.
 */
export async function waitFor<T>(what: string, condition: () => T | NotYet | Promise<T | NotYet>, opts: WaitForOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_MS;
  const deadline = performance.now() + timeoutMs;
  let pause = opts.intervalMs ?? 10;
  let lastError: unknown;
  let gaveUp: string | undefined;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    gaveUp = opts.giveUpIf?.();
    if (gaveUp !== undefined || performance.now() >= deadline) break;
    await sleep(pause);
    if (opts.intervalMs === undefined) pause = Math.min(250, pause * 1.5);
  }
  const detail = opts.describe ? `\n${await opts.describe()}` : '';
  const last = lastError === undefined ? '' : `\nlast error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  throw new Error(`${gaveUp ?? `timed out after ${timeoutMs} ms`} waiting for ${what}${last}${detail}`);
}
