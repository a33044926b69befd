import { AbortedError, ProbeTimeoutError } from './errors.js';

/** The reason an aborted signal carries, as our typed error (ProbeTimeoutError stays itself). */
export function abortReason(signal: AbortSignal): AbortedError {
  const r: unknown = signal.reason;
  if (r instanceof AbortedError) return r;
  // AbortSignal.timeout()'s reason: a DOMException whose standard name marks a timeout.
  if (r instanceof DOMException && r.name === 'TimeoutError') return new ProbeTimeoutError();
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

/** Waits for `promise`, which never rejects, unless `signal` fires first (then rejects with its reason). */
export function waitOrAbort(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const dispose = onAbort(signal, reject);
    void promise.then(() => {
      dispose();
      resolve();
    });
  });
}
