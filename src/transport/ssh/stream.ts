import type { ClientChannel } from 'ssh2';
import type { ProbeLog } from '../../log/probe-log.js';
import { onAbort } from '../../util/abort.js';
import type { Lease } from './pool.js';
import { ProbeError } from '../../util/errors.js';
import type { BridgeExit, SshStream } from './types.js';

/** A bridge's stderr kept for the reason; sudo and socat say what is wrong in a line or two. */
export const BRIDGE_STDERR_BYTES = 4096;
const MAX_REASON_CHARS = 300;

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

/**
 * A bridge command (execStream) that ended with a complaint says more than "connection
 * closed": its exit and the start of its stderr, or undefined when none complained.
 */
export function bridgeFailure(bridges: readonly SshStream[], label: string): ProbeError | undefined {
  for (const b of bridges) {
    const exit = b.exit();
    if (exit === undefined || (exit.exitCode === 0 && exit.stderr.trim() === '')) continue;
    const how = exit.exitSignal !== undefined ? `was killed by ${exit.exitSignal}` : `exited with code ${exit.exitCode}`;
    const said = exit.stderr
      .trim()
      .replace(/\s*\n\s*/g, ' | ')
      .slice(0, MAX_REASON_CHARS);
    return new ProbeError(`${label} ${how}${said ? `: ${said}` : ''}`);
  }
  return undefined;
}
