import type { ClientChannel } from 'ssh2';
import type { ProbeLog } from '../../log/probe-log.js';
import { onAbort } from '../../util/abort.js';
import type { Lease } from './pool.js';
import type { BridgeExit, SshStream } from './types.js';

/**
 * Hands a channel out as a plain byte stream. The channel's end returns the lease, so a
 * caller that destroys the stream (or lets the signal fire) never leaks a pooled session.
 * A command's stderr is kept up to `maxStderrBytes` for the caller's error message; more is
 * dropped rather than failing the stream, since stderr is only ever diagnosis.
 */
export function holdChannel(
  channel: ClientChannel,
  lease: Lease,
  label: string,
  opts: { signal: AbortSignal; log: ProbeLog; maxStderrBytes?: number },
): SshStream {
  const started = performance.now();
  const limit = opts.maxStderrBytes ?? 0;
  const stderr: Buffer[] = [];
  let kept = 0;
  let exitCode: number | null = null;
  let exitSignal: string | undefined;
  let exit: BridgeExit | undefined;
  const isCommand = opts.maxStderrBytes !== undefined;
  if (isCommand) {
    channel.stderr.on('data', (chunk: Buffer) => {
      const room = limit - kept;
      if (room <= 0) return;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      stderr.push(part);
      kept += part.length;
    });
    channel.on('exit', (code: number | null, signal?: string) => {
      if (typeof code === 'number') exitCode = code;
      else if (signal) exitSignal = signal;
    });
  }
  // An error after the caller destroyed the stream must not crash the process.
  channel.on('error', () => {});
  const disposeAbort = onAbort(opts.signal, () => channel.destroy());
  channel.once('close', (code?: number | null, signal?: string) => {
    disposeAbort();
    lease.release();
    if (isCommand) {
      // A fast command's status can precede the 'exit' listener; ssh2 repeats it on close.
      if (exitCode === null && typeof code === 'number') exitCode = code;
      if (exitSignal === undefined && typeof signal === 'string') exitSignal = signal;
      exit = { exitCode, stderr: Buffer.concat(stderr).toString('utf8') };
      if (exitSignal !== undefined) exit.exitSignal = exitSignal;
    }
    opts.log.debug('ssh stream closed', { host: label, exitCode: exit?.exitCode ?? undefined, ms: Math.round(performance.now() - started) });
  });
  return { stream: channel, exit: () => exit };
}
