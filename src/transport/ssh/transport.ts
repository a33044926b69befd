import type { Logger } from '../../log/logger.js';
import type { ClientChannel } from 'ssh2';
import type { LogFields, ProbeLog } from '../../log/probe-log.js';
import { silentProbeLog } from '../../log/probe-log.js';
import { onAbort, throwIfAborted } from '../../util/abort.js';
import { endpointLabel } from './connect.js';
import { collectExec } from './exec.js';
import { SshPool } from './pool.js';
import { ShellSession } from './shell.js';
import { holdChannel } from './stream.js';
import type { SshTransport } from './types.js';

export interface SshTransportOptions {
  /** Open connections, idle or busy, across all targets (jump hosts included). A fleet with more
   *  SSH targets than this reconnects on every probe, so it is sized for the fleet, not the load. */
  maxConnections?: number;
  /** An unused connection is closed after this long. */
  idleTimeoutMs?: number;
  /** SSH-level keepalive; three unanswered ones drop the connection. */
  keepaliveIntervalMs?: number;
  /** Bound on TCP connect + key exchange + authentication when the probe's own deadline is longer. */
  readyTimeoutMs?: number;
  /** Receives pool events that belong to no probe (idle close, eviction). */
  logger?: Logger;
}

const DEFAULTS = {
  maxConnections: 1024,
  idleTimeoutMs: 5 * 60_000,
  keepaliveIntervalMs: 30_000,
  readyTimeoutMs: 20_000,
};

const TERM = 'vt100';

export function createSshTransport(options: SshTransportOptions = {}): SshTransport {
  const pool = new SshPool({
    maxConnections: options.maxConnections ?? DEFAULTS.maxConnections,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? DEFAULTS.keepaliveIntervalMs,
    readyTimeoutMs: options.readyTimeoutMs ?? DEFAULTS.readyTimeoutMs,
    logger: options.logger ? fromProcessLog(options.logger) : silentProbeLog,
  });

  return {
    async exec(endpoint, command, opts) {
      throwIfAborted(opts.signal);
      const { channel, lease } = await pool.openChannel<ClientChannel>(endpoint, 'exec', opts.signal, opts.log, (client, cb) => client.exec(command, cb), {
        program: true,
      });
      try {
        return await collectExec(channel, endpointLabel(endpoint), opts);
      } finally {
        lease.release();
      }
    },

    async openShell(endpoint, opts) {
      throwIfAborted(opts.signal);
      const pty = { term: TERM, cols: opts.cols ?? 200, rows: opts.rows ?? 50 };
      const { channel, lease } = await pool.openChannel<ClientChannel>(endpoint, 'shell', opts.signal, opts.log, (client, cb) => client.shell(pty, cb), {
        program: true,
      });
      let disposeAbort = () => {};
      const shell = new ShellSession(channel, endpointLabel(endpoint), opts.maxOutputBytes, opts.log, () => {
        disposeAbort();
        lease.release();
      });
      disposeAbort = onAbort(opts.signal, (reason) => shell.end(reason));
      return shell;
    },

    async openStreamLocal(endpoint, socketPath, opts) {
      throwIfAborted(opts.signal);
      const { channel, lease } = await pool.openChannel<ClientChannel>(
        endpoint,
        `stream to ${socketPath}`,
        opts.signal,
        opts.log,
        (client, cb) => client.openssh_forwardOutStreamLocal(socketPath, cb),
        { session: false, needsNoDelay: true },
      );
      return holdChannel(channel, lease, endpointLabel(endpoint), opts);
    },

    async execStream(endpoint, command, opts) {
      throwIfAborted(opts.signal);
      const { channel, lease } = await pool.openChannel<ClientChannel>(endpoint, 'exec', opts.signal, opts.log, (client, cb) => client.exec(command, cb), {
        program: true,
      });
      return holdChannel(channel, lease, endpointLabel(endpoint), opts);
    },

    stats: () => pool.stats(),
    close: () => pool.close(),
  };
}

function fromProcessLog(logger: Logger): ProbeLog {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (msg: string, fields: LogFields = {}) =>
      logger[level](fields, msg);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
