import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { abortReason, onAbort } from '../util/abort.js';
import { ProbeError, SizeLimitError } from '../util/errors.js';
import { socketError } from './tcp.js';

export interface LineLimits {
  /** Longest line accepted, its terminator excluded; a peer that never ends a line fails here. */
  maxLineBytes: number;
  /** Everything received over the connection's life. */
  maxTotalBytes: number;
}

/** A peer that does not flush its last line (or ignores a goodbye) is cut off after this long. */
const CLOSE_GRACE_MS = 1000;

/**
 * A line-oriented conversation over any byte stream (a TCP socket, an SSH channel): text
 * protocols such as OpenVPN's management interface. Lines end in LF (a CR before it is
 * dropped). Bounded in line length and in total; the first failure (a bound, the peer
 * closing, an error, an abort) destroys the stream and every later read fails with it.
 */
export class LineConnection {
  private readonly lines: string[] = [];
  private readonly decoder = new StringDecoder('utf8');
  private tail = '';
  private received = 0;
  private failure: Error | undefined;
  private waiter: (() => void) | undefined;
  private closing = false;

  constructor(
    private readonly stream: Duplex,
    /** Names the peer in errors. */
    readonly where: string,
    private readonly limits: LineLimits,
  ) {
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (err: NodeJS.ErrnoException) =>
      this.fail(err.code ? socketError(err, where) : new ProbeError(`${where}: ${err.message}`, { cause: err })),
    );
    // Lines that arrived before the peer closed stay readable; a half-close (an SSH channel's EOF) is a close.
    stream.on('close', () => this.fail(this.closedError(), 'keep-lines'));
    stream.on('end', () => this.fail(this.closedError(), 'keep-lines'));
  }

  /**
   * The next complete line. With `prompt`, an unterminated tail that is exactly the prompt
   * (a `Password:` the peer leaves on its line) is returned as well.
   */
  async readLine(signal: AbortSignal, prompt?: string): Promise<string> {
    for (;;) {
      if (signal.aborted) this.fail(abortReason(signal));
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (prompt !== undefined && this.tail === prompt) {
        this.tail = '';
        return prompt;
      }
      if (this.failure !== undefined) throw this.failure;
      await new Promise<void>((resolve) => {
        const dispose = onAbort(signal, (reason) => this.fail(reason));
        this.waiter = () => {
          dispose();
          resolve();
        };
        if (this.failure !== undefined) this.wake();
      });
    }
  }

  write(text: string): void {
    if (this.failure !== undefined) throw this.failure;
    this.stream.write(text);
  }

  /**
   * Ends the conversation: sends `farewell` (a `quit`), then closes, at once when it is
   * flushed and at the latest after a short grace, so the peer is never held.
   */
  close(farewell?: string): void {
    if (this.failure !== undefined || this.closing) return;
    this.closing = true;
    this.fail(new ProbeError(`connection to ${this.where} was closed`), 'keep-lines');
    const timer = setTimeout(() => this.stream.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    this.stream.end(farewell ?? '', () => {
      clearTimeout(timer);
      this.stream.destroy();
    });
  }

  private onData(chunk: Buffer): void {
    if (this.failure !== undefined) return;
    this.received += chunk.length;
    if (this.received > this.limits.maxTotalBytes) {
      this.fail(new SizeLimitError(`${this.where} sent more than ${this.limits.maxTotalBytes} bytes`));
      return;
    }
    const text = this.tail + this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (end - start > this.limits.maxLineBytes) break;
      this.lines.push(text.slice(start, end));
      start = nl + 1;
    }
    this.tail = text.slice(start);
    // Characters, not bytes: a bound either way, and never larger than the byte count.
    const open = this.tail.indexOf('\n');
    if ((open === -1 ? this.tail.length : open) > this.limits.maxLineBytes) {
      this.fail(new SizeLimitError(`${this.where} sent a line longer than ${this.limits.maxLineBytes} bytes`));
      return;
    }
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /**
   * The first failure wins. A close (ours or the peer's) keeps the lines already received;
   * a bound, an error or an abort drops them, since the conversation cannot go on.
   */
  private fail(err: Error, lines: 'keep-lines' | 'drop-lines' = 'drop-lines'): void {
    if (this.failure === undefined) {
      this.failure = err;
      // Our own close() ends the stream gracefully and destroys it itself.
      if (!this.closing) this.stream.destroy();
    }
    if (lines === 'drop-lines') this.lines.length = 0;
    this.wake();
  }

  private closedError(): ProbeError {
    const partial = this.tail === '' ? '' : ` in the middle of a line (${this.tail.length} characters)`;
    return new ProbeError(`connection closed by ${this.where}${partial}`, { kind: 'connection_lost' });
  }
}
