import type { Client, ClientChannel } from 'ssh2';
import type { ProbeLog } from '../../log/probe-log.js';
import { AbortedError, errorMessage } from '../../util/errors.js';
import { onAbort } from '../../util/abort.js';
import { requestChannel } from './channel.js';
import { collectExec } from './exec.js';

/**
 * OpenSSH's sshd before 10.1 leaves Nagle's algorithm on for a connection until a session
 * on it starts a program (session.c: do_exec_no_pty and do_exec_pty call
 * ssh_packet_set_interactive, which sets TCP_NODELAY for the rest of the connection, pty
 * or not); 10.1 sets it when the connection starts (openssh-portable 289239046). A
 * connection that only forwards to a unix socket therefore keeps Nagle on, and a daemon
 * that answers in several small writes (charon writes each VICI message as a length, then
 * a body) has all but the first held back until our side ACKs, which Linux delays by
 * 40 ms: measured, 40-50 ms of a 60 ms warm VICI probe. One trivial command per
 * connection lifts it for every later channel.
 */
const COMMAND = 'true';
/** A forced command (ForceCommand, command= in authorized_keys) runs instead: bound it. */
const MAX_OUTPUT_BYTES = 4096;
const GIVE_UP_MS = 2000;

/** Whether the server is an OpenSSH that sets TCP_NODELAY by itself (10.1 and later). */
export function setsNoDelayItself(client: Client): boolean {
  // ssh2 keeps the server's identification string ("OpenSSH_9.2p1") on the client, unexported.
  const software = (client as unknown as { _remoteVer?: unknown })._remoteVer;
  const m = typeof software === 'string' ? /^OpenSSH_(\d+)\.(\d+)/.exec(software) : null;
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 10 || (major === 10 && minor >= 1);
}

/**
 * Runs one trivial command, stdin closed at once, output bounded, given up after two
 * seconds or with `signal`. Never throws: the command only buys speed, so a server that
 * refuses it (a session limit, no shell) costs the speed and nothing else.
 * `onChannel` counts its channel with the connection's others.
 */
export async function startProgramForNoDelay(
  client: Client,
  label: string,
  signal: AbortSignal,
  log: ProbeLog,
  onChannel: (channel: ClientChannel) => void,
): Promise<void> {
  const started = performance.now();
  const giveUp = new AbortController();
  const timer = setTimeout(() => giveUp.abort(new AbortedError(`no answer to "${COMMAND}" within ${GIVE_UP_MS} ms`)), GIVE_UP_MS);
  const disposeCaller = onAbort(signal, (reason) => giveUp.abort(reason));
  try {
    const channel = await requestChannel(`exec on ${label}`, giveUp.signal, (cb) => client.exec(COMMAND, cb));
    onChannel(channel);
    channel.end();
    const r = await collectExec(channel, label, { signal: giveUp.signal, maxOutputBytes: MAX_OUTPUT_BYTES, log });
    log.debug('ssh ran a command so that the server sends small answers at once (TCP_NODELAY)', {
      host: label,
      exitCode: r.exitCode ?? undefined,
      ms: Math.round(performance.now() - started),
    });
  } catch (err) {
    log.debug('ssh could not run a command for TCP_NODELAY; small answers may wait for ACKs', { host: label, error: errorMessage(err) });
  } finally {
    clearTimeout(timer);
    disposeCaller();
  }
}
