import { StringDecoder } from 'node:string_decoder';
import type { ClientChannel } from 'ssh2';
import type { ProbeLog } from '../../log/probe-log.js';
import { onAbort } from '../../util/abort.js';
import { ProbeError, SizeLimitError } from '../../util/errors.js';
import type { InteractiveShell } from './types.js';

interface PendingRead {
  pattern: RegExp;
  resolve(text: string): void;
  reject(err: Error): void;
}

/**
 * Text is decoded as it arrives (a character split across packets waits in the
 * decoder for its tail), so what a read returns and what it leaves are exact.
 */
export class ShellSession implements InteractiveShell {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  /** Bytes received since the last successful read, the quantity the bound applies to. */
  private pendingBytes = 0;
  private read: PendingRead | undefined;
  /** Why no further read can succeed: overflow, close, or the shell's own signal. */
  private ended: Error | undefined;
  private received = 0;

  constructor(
    private readonly channel: ClientChannel,
    private readonly label: string,
    private readonly maxBytes: number,
    private readonly log: ProbeLog,
    /** Gives the connection back to the pool; called once, when the shell ends for any reason. */
    private readonly onEnd: () => void,
  ) {
    channel.on('data', (chunk: Buffer) => this.onData(chunk));
    // With a pty the server merges stderr into the stream, but a server may still use the extended channel.
    channel.stderr.on('data', (chunk: Buffer) => this.onData(chunk));
    channel.once('close', () => {
      this.log.debug('ssh shell closed', { host: this.label, bytes: this.received });
      this.end(new ProbeError(`ssh shell on ${this.label} closed`));
    });
  }
  write(data: string): void {
    if (this.ended) return;
    this.channel.write(data);
  }

  readUntil(pattern: RegExp, signal: AbortSignal): Promise<string> {
    if (this.read) return Promise.reject(new ProbeError('readUntil called while another read is waiting'));
    // Flags g and y make exec() stateful; a read must not depend on the previous one.
    const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    return new Promise<string>((resolve, reject) => {
      let dispose = () => {};
      const settle = (f: () => void) => {
        dispose();
        this.read = undefined;
        f();
      };
      this.read = {
        pattern: re,
        resolve: (text) => settle(() => resolve(text)),
        reject: (err) => settle(() => reject(err)),
      };
      dispose = onAbort(signal, (reason) => this.read?.reject(reason));
      this.tryMatch();
    });
  }

  close(): void {
    this.end(new ProbeError(`ssh shell on ${this.label} was closed`));
  }

  /** The shell's own signal fired or the caller is done with it. */
  end(reason: Error): void {
    if (!this.ended) {
      this.ended = reason;
      this.onEnd();
    }
    this.channel.close();
    this.tryMatch();
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    this.received += chunk.length;
    if (this.pendingBytes + chunk.length > this.maxBytes) {
      this.end(new SizeLimitError(`ssh shell output on ${this.label} exceeds the limit of ${this.maxBytes} bytes`));
      return;
    }
    this.pendingBytes += chunk.length;
    this.pending += this.decoder.write(chunk);
    this.tryMatch();
  }

  private tryMatch(): void {
    const read = this.read;
    if (!read) return;
    const m = read.pattern.exec(this.pending);
    if (m) {
      const end = m.index + m[0].length;
      const upTo = this.pending.slice(0, end);
      this.pending = this.pending.slice(end);
      this.pendingBytes = Buffer.byteLength(this.pending);
      read.resolve(upTo);
    } else if (this.ended) {
      read.reject(this.ended);
    }
  }
}
