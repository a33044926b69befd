import { createHmac, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import type { ProbeLog } from '../../log/probe-log.js';
import { AbortedError, ProbeError } from '../../util/errors.js';
import { abortReason, onAbort, waitOrAbort } from '../../util/abort.js';
import { ChannelRefusedError, ConnectionLostError, requestChannel } from './channel.js';
import { endpointLabel, handshake, type Established } from './connect.js';
import { setsNoDelayItself, startProgramForNoDelay } from './nodelay.js';
import type { SshEndpoint, SshPoolStats } from './types.js';

export interface PoolOptions {
  maxConnections: number;
  idleTimeoutMs: number;
  keepaliveIntervalMs: number;
  readyTimeoutMs: number;
  /** Pool events that belong to no single probe (idle close, eviction). */
  logger: ProbeLog;
}

interface Conn {
  key: string;
  label: string;
  state: 'connecting' | 'ready' | 'closed';
  client: Client | undefined;
  destroy: () => void;
  ready: Promise<Client>;
  /** Callers holding the connection, including those still waiting for its handshake. */
  leases: number;
  waiters: number;
  /** Channels granted on it and not yet closed. */
  open: number;
  /** A session on it has started a program (see nodelay.ts), or the server needs none. */
  noDelay: boolean;
  /** The command run for it, shared by the channels waiting on it. */
  startingNoDelay: Promise<void> | undefined;
  /** Taken out of the pool: no new leases, closed when the last one is returned. */
  retired: boolean;
  lastUsed: number;
  idleTimer: NodeJS.Timeout | undefined;
  cancel: AbortController;
  onClosed: Array<() => void>;
}

/** What a channel is to the server. */
export interface ChannelKind {
  /**
   * Counted against the server's session limit (OpenSSH MaxSessions); default true. False
   * for a forward to a unix socket: its refusal says the far end cannot be opened, not that
   * the connection is full, so it teaches nothing and is not retried.
   */
  session?: boolean;
  /** Starts a program (exec, shell): the server then turns Nagle off (nodelay.ts). */
  program?: boolean;
  /** Carries a request/response protocol: on a connection that has started no program, start one first. */
  needsNoDelay?: boolean;
}

export interface Lease {
  client: Client;
  /** The connection was already up: a failure on it may mean it died while idle. */
  reused: boolean;
  release(): void;
  retire(): void;
}

/** A graceful close that a silent peer cannot stretch past this. */
const CLOSE_GRACE_MS = 2000;

/** Hosts whose session limit was learned; past this many the oldest lessons are forgotten. */
const MAX_LEARNED_LIMITS = 10_000;

/** Keyed by everything that makes two connections interchangeable; secrets only as a keyed hash. */
export class SshPool {
  private readonly byKey = new Map<string, Conn>();
  private readonly all = new Set<Conn>();
  private readonly secret = randomBytes(32);
  /** Channels a host allows on one connection, learned from its refusals (OpenSSH MaxSessions). */
  private readonly channelLimits = new Map<string, number>();
  private handshakes = 0;
  private channels = 0;
  private closing = false;

  constructor(private readonly opts: PoolOptions) {}

  stats(): SshPoolStats {
    let connections = 0;
    for (const c of this.all) if (c.state === 'ready') connections++;
    return { connections, channels: this.channels, handshakes: this.handshakes };
  }

  /**
   * Opens a channel on a pooled connection. A reused connection that turns out
   * dead is dropped and the request retried once on a fresh one. A channel the
   * server refuses while others are open on that connection teaches the pool the
   * host's session limit: the request, and later ones beyond the limit, get a
   * connection of their own. The caller returns the lease when the channel is done.
   */
  async openChannel<T extends Duplex>(
    endpoint: SshEndpoint,
    what: string,
    signal: AbortSignal,
    log: ProbeLog,
    start: (client: Client, cb: (err: Error | undefined, ch: T) => void) => void,
    kind: ChannelKind = {},
  ): Promise<{ channel: T; lease: Lease }> {
    const session = kind.session ?? true;
    let ownConnection = false;
    for (let attempt = 0; ; attempt++) {
      const { lease, conn } = await this.acquire(endpoint, signal, log, ownConnection);
      try {
        if (kind.needsNoDelay && !conn.noDelay) await this.startNoDelay(conn, lease.client, signal, log);
        const channel = (await requestChannel(`${what} on ${endpointLabel(endpoint)}`, signal, (cb) =>
          start(lease.client, cb as unknown as (err: Error | undefined, ch: T) => void),
        )) as unknown as T;
        this.countOpen(conn, channel);
        if (kind.program) conn.noDelay = true;
        log.debug('ssh channel open', { host: endpointLabel(endpoint), kind: what });
        return { channel, lease };
      } catch (err) {
        // Other callers on this connection, with their channels granted or still pending.
        const others = conn.leases - 1;
        const refused = session && err instanceof ChannelRefusedError;
        // A request left unanswered until the deadline points at a wedged connection; one
        // that refuses its only channel has nothing more to give (some appliances grant
        // one session per connection, ever). Retired first, so the release closes it.
        const spent = refused && others === 0 && lease.reused;
        if (err instanceof ConnectionLostError || err instanceof AbortedError || spent) lease.retire();
        lease.release();
        if (attempt > 0) throw err;
        if (err instanceof ConnectionLostError && lease.reused) {
          log.debug('ssh pooled connection was dead, reconnecting', { host: endpointLabel(endpoint) });
          continue;
        }
        if (refused && others > 0) {
          log.debug('ssh channel refused beside others on the connection, retrying on one of its own', { host: endpointLabel(endpoint), others });
          // Those still pending may be refused too: count only the channels known to be open
          // (at least one), and let later refusals lower the limit further.
          this.learnLimit(conn.key, Math.max(1, conn.open), conn.label);
          ownConnection = true;
          continue;
        }
        if (spent) {
          log.debug('ssh pooled connection refused another channel, reconnecting', { host: endpointLabel(endpoint) });
          continue;
        }
        throw err;
      }
    }
  }

  private countOpen(conn: Conn, channel: Duplex): void {
    this.channels++;
    conn.open++;
    channel.once('close', () => {
      this.channels--;
      conn.open--;
    });
  }

  /**
   * One trivial command on the connection, once, shared by the callers that need it at the
   * same time; each waits for it at most until its own signal. A caller that gave up
   * leaves it to the next one; any other outcome counts, so a server that refuses it is
   * not asked on every probe.
   */
  private async startNoDelay(conn: Conn, client: Client, signal: AbortSignal, log: ProbeLog): Promise<void> {
    if (setsNoDelayItself(client)) {
      conn.noDelay = true;
      return;
    }
    conn.startingNoDelay ??= startProgramForNoDelay(client, conn.label, signal, log, (channel) => this.countOpen(conn, channel)).then(() => {
      conn.startingNoDelay = undefined;
      if (!signal.aborted) conn.noDelay = true;
    });
    await waitOrAbort(conn.startingNoDelay, signal);
  }

  private learnLimit(key: string, limit: number, label: string): void {
    const known = this.channelLimits.get(key);
    if (known !== undefined && known <= limit) return;
    if (this.channelLimits.size >= MAX_LEARNED_LIMITS) this.channelLimits.delete(this.channelLimits.keys().next().value!);
    this.channelLimits.set(key, limit);
    this.opts.logger.info('ssh server limits sessions per connection; probes beyond it get their own connection', {
      host: label,
      sessions_per_connection: limit,
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const closed = [...this.all].map((c) => new Promise<void>((resolve) => (c.state === 'closed' ? resolve() : c.onClosed.push(resolve))));
    for (const c of this.all) this.shut(c);
    await Promise.all(closed);
    this.closing = false;
  }

  /** `own`: a connection for this caller alone, closed when its lease is returned. */
  private async acquire(endpoint: SshEndpoint, signal: AbortSignal, log: ProbeLog, own: boolean): Promise<{ lease: Lease; conn: Conn }> {
    const key = this.keyOf(endpoint);
    let conn = this.byKey.get(key);
    const limit = this.channelLimits.get(key);
    if (own || (conn !== undefined && limit !== undefined && conn.leases >= limit)) {
      conn = this.create(endpoint, key, log, false);
    }
    const reused = conn?.state === 'ready';
    if (conn === undefined) conn = this.create(endpoint, key, log, true);
    conn.leases++;
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    conn.idleTimer = undefined;
    const lease = this.lease(conn, reused);
    if (reused) {
      log.debug('ssh reusing pooled connection', { host: conn.label });
      return { lease, conn };
    }
    try {
      await this.waitReady(conn, signal);
    } catch (err) {
      lease.release();
      throw err;
    }
    return { lease, conn };
  }

  private lease(conn: Conn, reused: boolean): Lease {
    let held = true;
    return {
      get client(): Client {
        if (!conn.client) throw new ProbeError(`ssh connection ${conn.label} is not ready`);
        return conn.client;
      },
      reused,
      release: () => {
        if (!held) return;
        held = false;
        conn.leases--;
        conn.lastUsed = performance.now();
        if (conn.leases > 0 || conn.state !== 'ready') return;
        if (conn.retired || this.closing) this.shut(conn);
        else conn.idleTimer = setTimeout(() => this.expire(conn), this.opts.idleTimeoutMs).unref();
      },
      retire: () => this.retire(conn),
    };
  }

  private waitReady(conn: Conn, signal: AbortSignal): Promise<void> {
    conn.waiters++;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      let dispose = () => {};
      const leave = (err?: unknown) => {
        if (done) return;
        done = true;
        dispose();
        conn.waiters--;
        // The handshake is shared; it is only worth finishing while someone still wants it.
        if (conn.waiters === 0 && conn.state === 'connecting' && err instanceof AbortedError) {
          conn.cancel.abort(err);
        }
        if (err === undefined) resolve();
        else reject(err);
      };
      dispose = onAbort(signal, (reason) => leave(reason));
      conn.ready.then(
        () => leave(),
        (err: unknown) => leave(err),
      );
    });
  }

  /** `pooled`: shared under its key; otherwise retired from birth, closed after its one use. */
  private create(endpoint: SshEndpoint, key: string, log: ProbeLog, pooled: boolean): Conn {
    this.makeRoom();
    const conn: Conn = {
      key,
      label: endpointLabel(endpoint),
      state: 'connecting',
      client: undefined,
      destroy: () => {},
      ready: Promise.resolve(undefined as unknown as Client),
      leases: 0,
      waiters: 0,
      open: 0,
      noDelay: false,
      startingNoDelay: undefined,
      retired: !pooled,
      lastUsed: performance.now(),
      idleTimer: undefined,
      cancel: new AbortController(),
      onClosed: [],
    };
    if (pooled) this.byKey.set(key, conn);
    this.all.add(conn);
    conn.ready = this.connect(conn, endpoint, log).then(
      ({ client, destroy }) => {
        conn.client = client;
        conn.destroy = destroy;
        client.once('close', () => this.closed(conn));
        client.on('error', (err) => this.opts.logger.debug('ssh connection error', { host: conn.label, error: err.message }));
        // Shut down while the handshake was finishing: nobody may use it.
        if (conn.cancel.signal.aborted) {
          destroy();
          throw abortReason(conn.cancel.signal);
        }
        conn.state = 'ready';
        return client;
      },
      (err: unknown) => {
        this.closed(conn);
        throw err;
      },
    );
    // Waiters who gave up no longer listen; the rejection is theirs, not the process's.
    conn.ready.catch(() => {});
    return conn;
  }

  private async connect(conn: Conn, endpoint: SshEndpoint, log: ProbeLog): Promise<Established> {
    const signal = conn.cancel.signal;
    let sock: Duplex | undefined;
    if (endpoint.jump) {
      const jump = endpoint.jump;
      const via = await this.openChannel(jump, 'forward', signal, log, (client, cb) => client.forwardOut('127.0.0.1', 0, endpoint.host, endpoint.port, cb));
      sock = via.channel;
      // The jump connection stays leased for as long as the tunnel through it lives.
      conn.onClosed.push(() => {
        via.channel.destroy();
        via.lease.release();
      });
      if (conn.state === 'closed') throw new ProbeError(`ssh connection ${conn.label} closed`);
    }
    this.handshakes++;
    return handshake({
      endpoint,
      sock,
      readyTimeoutMs: this.opts.readyTimeoutMs,
      keepaliveIntervalMs: this.opts.keepaliveIntervalMs,
      signal,
      log,
    });
  }

  /** Makes space for one more connection by closing the least recently used idle one. */
  private makeRoom(): void {
    if (this.all.size < this.opts.maxConnections) return;
    let victim: Conn | undefined;
    for (const c of this.all) {
      if (c.state !== 'ready' || c.leases > 0) continue;
      if (!victim || c.lastUsed < victim.lastUsed) victim = c;
    }
    if (!victim) {
      throw new ProbeError(`ssh connection pool is full: all ${this.opts.maxConnections} connections are busy or connecting`);
    }
    this.opts.logger.debug('ssh evicting idle connection', { host: victim.label });
    this.shut(victim);
  }

  private expire(conn: Conn): void {
    this.opts.logger.debug('ssh closing idle connection', { host: conn.label });
    this.shut(conn);
  }

  private retire(conn: Conn): void {
    conn.retired = true;
    if (this.byKey.get(conn.key) === conn) this.byKey.delete(conn.key);
  }

  /** Ends the connection; the slot is freed at once, the socket when the peer answers or the grace runs out. */
  private shut(conn: Conn): void {
    this.retire(conn);
    if (conn.state === 'connecting') {
      conn.cancel.abort(new AbortedError('ssh pool closed the connection'));
      return;
    }
    if (conn.state === 'closed') return;
    this.all.delete(conn);
    const force = setTimeout(conn.destroy, CLOSE_GRACE_MS).unref();
    conn.onClosed.push(() => clearTimeout(force));
    conn.client?.end();
  }

  private closed(conn: Conn): void {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    this.retire(conn);
    this.all.delete(conn);
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    conn.idleTimer = undefined;
    for (const f of conn.onClosed.splice(0)) f();
  }

  private keyOf(e: SshEndpoint): string {
    const c = e.credentials;
    const creds = createHmac('sha256', this.secret)
      .update(JSON.stringify([c.password ?? null, c.privateKey ?? null, c.passphrase ?? null]))
      .digest('hex')
      .slice(0, 32);
    const policy = JSON.stringify([e.hostKey.knownHostsFile ?? null, [...(e.hostKey.fingerprints ?? [])].sort(), e.hostKey.insecureSkipVerify === true]);
    const own = `${c.username}@${e.host}:${e.port}#${creds}#${policy}`;
    return e.jump ? `${own} via ${this.keyOf(e.jump)}` : own;
  }
}
