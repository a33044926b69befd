import { connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AuthenticationType, Client, ConnectConfig } from 'ssh2';
import type { ProbeLog } from '../../log/probe-log.js';
import { onAbort, throwIfAborted } from '../../util/abort.js';
import { ProbeError, errorMessage } from '../../util/errors.js';
import { prepareHostKeyCheck } from './host-key.js';
import type { SshEndpoint } from './types.js';

export interface HandshakeParams {
  endpoint: SshEndpoint;
  /** Runs SSH over this stream (a jump host's forwarded channel) instead of a new TCP connection. */
  sock?: Duplex;
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
  signal: AbortSignal;
  log: ProbeLog;
}

export interface Established {
  client: Client;
  /** Tears the transport down even when ssh2 thinks the socket is already closing. */
  destroy(): void;
}

/** How many unanswered keepalives mean the peer is gone. */
const KEEPALIVE_COUNT_MAX = 3;

export function endpointLabel(e: SshEndpoint): string {
  return `${e.credentials.username}@${e.host}:${e.port}`;
}

/**
 * One TCP connection (or tunnelled stream), key exchange, host key check and
 * authentication. On any failure or abort the socket is destroyed before the
 * promise settles, so nothing outlives a failed attempt.
 */
let ssh2: Promise<typeof import('ssh2')> | undefined;

/**
 * ssh2, loaded on first use: ~60 files and its poly1305 module, 60-100 ms that start-up no
 * longer waits for (issue #13 §6). main.ts calls this a second after listening, so a probe
 * rarely finds it unloaded; one that does loads it (or waits for the load under way).
 */
export function loadSsh2(): Promise<typeof import('ssh2')> {
  ssh2 ??= import('ssh2');
  return ssh2;
}

export async function handshake(p: HandshakeParams): Promise<Established> {
  const { endpoint, log, signal } = p;
  const hostPort = `${endpoint.host}:${endpoint.port}`;
  const check = await prepareHostKeyCheck(endpoint.hostKey, endpoint.host, endpoint.port, log);
  const { Client: SshClient } = await loadSsh2();
  throwIfAborted(signal);

  const started = performance.now();
  log.debug('ssh connecting', { host: hostPort, user: endpoint.credentials.username, via: p.sock ? 'jump' : 'tcp' });
  // Without noDelay, Nagle and delayed ACKs add ~40 ms to every channel round trip.
  const sock = p.sock ?? tcpConnect({ host: endpoint.host, port: endpoint.port, noDelay: true });
  const client = new SshClient();
  const kill = () => {
    client.destroy();
    sock.destroy();
  };

  let config: ConnectConfig;
  try {
    config = connectConfig(p, sock, check.verify.bind(check), check.algorithms);
  } catch (err) {
    kill();
    throw err;
  }

  return new Promise<Established>((resolve, reject) => {
    let settled = false;
    let disposeAbort = () => {};
    const finish = (err: ProbeError | undefined) => {
      if (settled) return;
      settled = true;
      disposeAbort();
      client.removeListener('ready', onReady);
      client.removeListener('close', onClose);
      if (err) {
        kill();
        reject(err);
      } else {
        log.debug('ssh handshake done', { host: hostPort, ms: Math.round(performance.now() - started) });
        resolve({ client, destroy: kill });
      }
    };
    const onReady = () => finish(undefined);
    const onClose = () => finish(check.rejection ?? new ProbeError(`ssh connection to ${hostPort} closed during the handshake`));
    // Stays attached for the connection's life: an 'error' nobody listens to would crash the process.
    // Later errors belong to the pool, which logs them; this probe's log may be long finished.
    client.on('error', (err: Error & { level?: string }) => {
      if (!settled) finish(check.rejection ?? describeFailure(hostPort, endpoint, err));
    });
    client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, answer) => {
      // A prompt the server echoes asks for something other than a password (a user name, a menu choice).
      answer(prompts.map((q) => (q.echo ? '' : (endpoint.credentials.password ?? ''))));
    });
    client.once('ready', onReady);
    client.once('close', onClose);
    disposeAbort = onAbort(signal, (reason) => finish(reason));
    if (settled) return;
    try {
      client.connect(config);
    } catch (err) {
      finish(new ProbeError(`ssh connection to ${hostPort} not started: ${errorMessage(err)}`, { cause: err }));
    }
  });
}

function connectConfig(p: HandshakeParams, sock: Duplex, verify: (key: Buffer) => boolean, hostKeyAlgorithms: string[]): ConnectConfig {
  const c = p.endpoint.credentials;
  // Public key first: a wrong password attempt costs a server-side delay.
  const methods: AuthenticationType[] = [];
  if (c.privateKey !== undefined) methods.push('publickey');
  if (c.password !== undefined) methods.push('password', 'keyboard-interactive');
  if (methods.length === 0) {
    throw new ProbeError(`ssh credentials for ${endpointLabel(p.endpoint)} have neither a password nor a private key`);
  }
  return {
    sock,
    username: c.username,
    password: c.password,
    privateKey: c.privateKey,
    passphrase: c.passphrase,
    tryKeyboard: c.password !== undefined,
    authHandler: methods,
    hostVerifier: verify,
    readyTimeout: p.readyTimeoutMs,
    keepaliveInterval: p.keepaliveIntervalMs,
    keepaliveCountMax: KEEPALIVE_COUNT_MAX,
    algorithms: { serverHostKey: hostKeyAlgorithms as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
  };
}

function describeFailure(hostPort: string, endpoint: SshEndpoint, err: Error & { level?: string }): ProbeError {
  if (err.level === 'client-authentication') {
    return new ProbeError(`ssh authentication as ${endpointLabel(endpoint)} failed`, { cause: err, kind: 'auth_failed' });
  }
  if (err.level === 'client-timeout') {
    return new ProbeError(`ssh handshake with ${hostPort} timed out`, { cause: err });
  }
  // ssh2 wraps a bad private key or passphrase in a message that names the problem, never the secret.
  return new ProbeError(`ssh connection to ${hostPort} failed: ${err.message}`, { cause: err });
}
