import { AbortedError } from './errors.js';

/** The reason an aborted signal carries, as our typed error. */
export function abortReason(signal: AbortSignal): AbortedError {
  const r: unknown = signal.reason;
  if (r instanceof AbortedError) return r;
  if (r instanceof Error && r.name === 'TimeoutError') return new AbortedError('probe timed out');
  if (r instanceof Error) return new AbortedError(r.message);
  return new AbortedError(typeof r === 'string' ? r : 'probe aborted');
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortReason(signal);
}

/**
 * Runs `cleanup` once when the signal fires; returns a disposer to call when the
 * guarded work is done, so listeners never pile up on long-lived signals.
 */
export function onAbort(signal: AbortSignal, cleanup: (reason: AbortedError) => void): () => void {
  if (signal.aborted) {
    cleanup(abortReason(signal));
    return () => {};
  }
  const listener = () => cleanup(abortReason(signal));
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/** Resolves after `ms`, or rejects with the abort reason. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      dispose();
      resolve();
    }, ms);
    const dispose = onAbort(signal, (reason) => {
      clearTimeout(timer);
      reject(reason);
    });
  });
}
