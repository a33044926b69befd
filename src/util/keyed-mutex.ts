import { onAbort, throwIfAborted } from './abort.js';

/**
 * One holder per key at a time; the others wait in arrival order, each within its own
 * signal (a waiter that gives up leaves the queue and never runs). For resources that
 * serve one client at a time, such as OpenVPN's management interface. A key is forgotten
 * once nobody holds or waits for it, so the map holds only keys in use.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    throwIfAborted(signal);
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    // The next one waits for whoever is ahead of us as well as for us: giving up must not let it overtake.
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    // Forgotten only when everyone ahead and we are done, not when we merely give up waiting.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const dispose = onAbort(signal, reject);
        void previous.then(() => {
          dispose();
          resolve();
        });
      });
      return await work();
    } finally {
      release();
    }
  }

  /** Keys held or waited for now (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
