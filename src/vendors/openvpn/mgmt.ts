import type { Duplex } from 'node:stream';
import { z } from 'zod';
import {
  SSH_PROBER,
  commandPrefix,
  commandPrefixSchema,
  socketCommandSchema,
  sshEndpoint,
  sshOptionsSchema,
  unixSocketPathSchema,
} from '../../config/ssh-block.js';
import { secretSchema } from '../../config/secret.js';
import type { ProberDefinition, ProbeContext } from '../../probe/prober.js';
import { ChannelRefusedError } from '../../transport/ssh/channel.js';
import { runSections } from '../../transport/ssh/sections.js';
import { BRIDGE_STDERR_BYTES, bridgeFailure } from '../../transport/ssh/stream.js';
import type { SshStream } from '../../transport/ssh/types.js';
import { connectTcp } from '../../transport/tcp.js';
import { ProbeError, ProbeTimeoutError, errorMessage } from '../../util/errors.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';
import { addOpenvpnFamilies } from './metrics.js';
import { parseLoadStats, parseManagementState, parseManagementVersion } from './mgmt-replies.js';
import { ManagementSession } from './mgmt-session.js';
import { collectOpenvpnPki, openvpnPkiOptions, openvpnPkiSections, pkiConfigFiles } from './pki.js';
import { buildOpenvpnSnapshot } from './snapshot.js';
import { parseOpenvpnStatus } from './status.js';

/** Common choice in OpenVPN's documentation and distributions; the protocol has no assigned port. */
const DEFAULT_TCP_PORT = 7505;

const optionsSchema = z
  .strictObject({
    /** The tunnel's name in metrics (the server instance behind this interface). */
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,32}$/, 'letters, digits, "_", "." and "-" (at most 32)')
      .default('server'),
    /** The password of `management IP PORT pw-file`, answered at the `ENTER PASSWORD:` prompt. */
    password: secretSchema.refine((s) => !/[\r\n]/.test(s.reveal()), 'a management password is a single line').optional(),
    /** With ssh: the interface is a unix socket on the gateway (`management /run/... unix`). */
    ssh: sshOptionsSchema.optional(),
    socket: unixSocketPathSchema.optional(),
    /** A bridge run instead of forwarding, e.g. `sudo -n socat STDIO UNIX-CONNECT:/run/openvpn/server.sock`. */
    socket_command: socketCommandSchema.optional(),
    /** Bound on everything the interface sends in one probe. */
    max_response_bytes: z
      .number()
      .int()
      .min(4096)
      .max(256 << 20)
      .default(16 << 20),
    /**
     * With ssh: server configurations whose certificates and CRLs are read (as openvpn-ssh
     * does), in one exec beside the management session.
     */
    ...openvpnPkiOptions,
    /** With ssh: `sudo -n` style prefix for reading config_files and the files they name. */
    command_prefix: commandPrefixSchema,
  })
  .superRefine((o, ctx) => {
    const viaSocket = o.socket !== undefined || o.socket_command !== undefined;
    if (o.ssh && !viaSocket)
      ctx.addIssue({
        code: 'custom',
        path: ['socket'],
        message: 'with ssh, give socket (or socket_command): the management socket on the gateway; over TCP no ssh credentials (nor an ssh auth) apply',
      });
    if (!o.ssh && o.config_files.length > 0)
      ctx.addIssue({ code: 'custom', path: ['config_files'], message: 'config_files are read over SSH: give ssh and socket (or socket_command)' });
    if (!o.ssh && o.command_prefix !== '')
      ctx.addIssue({ code: 'custom', path: ['command_prefix'], message: 'command_prefix applies to commands over SSH: give ssh' });
    if (!o.ssh && viaSocket) ctx.addIssue({ code: 'custom', path: ['ssh'], message: 'socket and socket_command are reached over SSH: give ssh' });
    if (o.socket !== undefined && o.socket_command !== undefined)
      ctx.addIssue({ code: 'custom', path: ['socket_command'], message: 'give socket or socket_command, not both' });
  });

type Options = z.output<typeof optionsSchema>;

/** How long a failed probe waits for its bridge's exit status, to give that as the reason. */
const BRIDGE_EXIT_WAIT_MS = 1000;

/** Notifications (`>LOG:`, `>CLIENT:` ...) skipped per probe before the interface counts as flooding. */
const MAX_NOTIFICATIONS = 10_000;

/**
 * OpenVPN serves one management client at a time: probes of one interface (whichever module
 * sends them) take turns here, so the exporter never queues behind itself inside OpenVPN.
 */
const interfaces = new KeyedMutex();

/**
 * OpenVPN's management interface, over TCP (`management IP PORT [pw-file]`) or, with `ssh`,
 * on the gateway's unix socket (`management PATH unix`) through a stream-local forward or a
 * bridge command. One session per probe: version, state, load-stats and status 3, then quit.
 */
export const openvpnMgmt: ProberDefinition<typeof optionsSchema> = {
  name: 'openvpn-mgmt',
  ...SSH_PROBER,
  defaultPort: DEFAULT_TCP_PORT,
  defaultPortFor: (options) => (options.ssh ? SSH_PROBER.defaultPort : DEFAULT_TCP_PORT),
  // Over TCP the module takes no credentials: an ssh auth sent to it is a bad request.
  credentialsFor: (options) => (options.socket !== undefined || options.socket_command !== undefined ? 'ssh' : undefined),
  requiresAllowList: (options) => (options.ssh ? SSH_PROBER.requiresAllowList({ ssh: options.ssh }) : undefined),
  addVendorFamilies: addOpenvpnFamilies,
  optionsSchema,
  async probe(ctx) {
    const { target, options, signal } = ctx;
    // The certificates need no turn at the interface: they are read meanwhile, on their own channel.
    const reading = new AbortController();
    const pki = readPki(ctx, AbortSignal.any([signal, reading.signal]));
    const key = options.ssh ? `ssh ${target.host}:${target.port} ${options.socket ?? options.socket_command}` : `tcp ${target.host}:${target.port}`;
    let turn = false;
    try {
      const snapshot = await interfaces.run(key, signal, () => {
        turn = true;
        return probeInterface(ctx);
      });
      const read = await pki;
      return read ? { ...snapshot, certificates: read.certificates, crls: read.crls } : snapshot;
    } catch (err) {
      if (err instanceof ProbeTimeoutError && !turn) {
        throw new ProbeTimeoutError(`waiting for another probe of the same management interface to finish: ${err.message}`, { cause: err });
      }
      throw err;
    } finally {
      // A failed probe leaves no channel behind: stop the read and wait for its channel to close.
      reading.abort();
      await pki;
    }
  },
};

/**
 * The certificates and CRLs of config_files, as openvpn-ssh reads them (the same filter on
 * the gateway), in one exec on the pooled connection; the pool spreads it over another
 * connection where the server limits sessions. Never rejects: a failed read costs the
 * certificate series (logged), not the probe.
 */
async function readPki({ target, options, log, services }: ProbeContext<Options>, signal: AbortSignal) {
  const configFiles = pkiConfigFiles(options);
  if (!options.ssh || configFiles.length === 0) return undefined;
  try {
    const sections = openvpnPkiSections(configFiles, commandPrefix(options.command_prefix));
    const results = await runSections(services.ssh, sshEndpoint(target, options.ssh), sections, {
      signal,
      log,
      maxOutputBytes: options.max_response_bytes,
    });
    return collectOpenvpnPki(configFiles, results, log);
  } catch (err) {
    if (!signal.aborted) log.warn('certificates: not read', { reason: errorMessage(err) });
    return undefined;
  }
}

async function probeInterface({ target, options, signal, log, services }: ProbeContext<Options>) {
  const bridges: SshStream[] = [];
  let where = target.raw;
  let stream: Duplex;
  if (!options.ssh) {
    stream = await connectTcp({ host: target.host, port: target.port, signal, log });
  } else {
    const endpoint = sshEndpoint(target, options.ssh);
    if (options.socket_command !== undefined) {
      where = `socket_command on ${target.raw}`;
      const bridge = await services.ssh.execStream(endpoint, options.socket_command, { signal, log, maxStderrBytes: BRIDGE_STDERR_BYTES });
      bridges.push(bridge);
      stream = bridge.stream;
    } else {
      const socket = options.socket ?? '';
      where = `${socket} on ${target.raw}`;
      try {
        stream = (await services.ssh.openStreamLocal(endpoint, socket, { signal, log })).stream;
      } catch (err) {
        if (!(err instanceof ChannelRefusedError)) throw err;
        throw new ProbeError(
          `the SSH server refused a stream to ${socket}: the socket is missing (is OpenVPN running with "management ${socket} unix"?), ${options.ssh.username} may not open it, or the server forbids stream-local forwarding (sshd AllowStreamLocalForwarding); socket_command is the alternative`,
          { cause: err },
        );
      }
    }
  }
  const limits = { maxResponseBytes: options.max_response_bytes, maxNotifications: MAX_NOTIFICATIONS };
  let session: ManagementSession | undefined;
  try {
    session = await ManagementSession.open(stream, where, { password: options.password?.reveal(), signal, log, limits });
    session.pipeline(['version', 'state', 'load-stats', 'status 3']);
    const version = parseManagementVersion(await session.lines('version', signal));
    const state = parseManagementState(await session.lines('state', signal));
    const load = parseLoadStats(await session.success('load-stats', signal));
    const statusLines = await session.lines('status 3', signal);
    // The last answer is in: let the next client have the interface before parsing anything.
    session.close();
    const status = parseOpenvpnStatus([...statusLines, 'END'].join('\n'));
    const nowSeconds = status.updated ?? Math.floor(Date.now() / 1000);
    return buildOpenvpnSnapshot({
      reads: [
        {
          name: options.name,
          path: 'management',
          status,
          management: {
            state: state.name,
            stateSinceTimestamp: state.since,
            stateDescription: state.description,
            clients: load.clients,
            bytesIn: load.bytesIn,
            bytesOut: load.bytesOut,
            version: version.version,
            managementVersion: version.managementVersion,
          },
        },
      ],
      nowSeconds,
      version: version.version,
    });
  } catch (err) {
    // A bridge that gave up ends its output before its exit status arrives: wait for it, briefly.
    await Promise.all(bridges.map((b) => (b.exit() === undefined ? closedWithin(b.stream, BRIDGE_EXIT_WAIT_MS) : undefined)));
    throw bridgeFailure(bridges, `socket_command "${options.socket_command}"`) ?? err;
  } finally {
    if (session) session.close();
    else stream.destroy();
  }
}

function closedWithin(stream: Duplex, ms: number): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    stream.once('close', done);
    function done() {
      clearTimeout(timer);
      stream.off('close', done);
      resolve();
    }
  });
}
