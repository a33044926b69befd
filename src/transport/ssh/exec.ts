import type { ClientChannel } from 'ssh2';
import { onAbort } from '../../util/abort.js';
import { BoundedBuffer } from '../../util/bounded-buffer.js';
import { SizeLimitError } from '../../util/errors.js';
import type { ExecOptions, ExecResult } from './types.js';

/** Collects an exec channel's output until the server closes it, the bound is passed, or the signal fires. */
export function collectExec(channel: ClientChannel, label: string, opts: ExecOptions): Promise<ExecResult> {
  const started = performance.now();
  const what = `output of ssh exec on ${label}`;
  const stdout = new BoundedBuffer(opts.maxOutputBytes, what);
  const stderr = new BoundedBuffer(opts.maxOutputBytes, what);
  let exitCode: number | null = null;
  let exitSignal: string | undefined;

  return new Promise<ExecResult>((resolve, reject) => {
    let done = false;
    // Assigned last: onAbort may call back synchronously when the signal has already fired.
    let dispose = () => {};
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      dispose();
      // OpenSSH answers a close only once the command has exited; without the
      // signal an abandoned command would keep running and hold the channel.
      channel.signal('KILL');
      channel.close();
      reject(err);
    };
    const take = (into: BoundedBuffer) => (chunk: Buffer) => {
      if (done) return;
      // One budget for both streams: a flood on stderr is as costly as one on stdout.
      if (stdout.length + stderr.length + chunk.length > opts.maxOutputBytes) {
        fail(new SizeLimitError(`${what} exceeds the limit of ${opts.maxOutputBytes} bytes`));
        return;
      }
      into.push(chunk);
    };
    channel.on('data', take(stdout));
    channel.stderr.on('data', take(stderr));
    channel.on('exit', (code: number | null, signal?: string) => {
      if (typeof code === 'number') exitCode = code;
      else if (signal) exitSignal = signal;
    });
    // A fast command's exit status can arrive in the same read as the channel
    // confirmation, before the listener above existed; ssh2 repeats it on close.
    channel.once('close', (code?: number | null, signal?: string) => {
      if (exitCode === null && typeof code === 'number') exitCode = code;
      if (exitSignal === undefined && typeof signal === 'string') exitSignal = signal;
      if (done) return;
      done = true;
      dispose();
      opts.log.debug('ssh exec finished', {
        host: label,
        exitCode: exitCode ?? undefined,
        exitSignal,
        stdoutBytes: stdout.length,
        stderrBytes: stderr.length,
        ms: Math.round(performance.now() - started),
      });
      const result: ExecResult = { stdout: stdout.toString(), stderr: stderr.toString(), exitCode };
      if (exitSignal !== undefined) result.exitSignal = exitSignal;
      resolve(result);
    });
    dispose = onAbort(opts.signal, fail);
  });
}
