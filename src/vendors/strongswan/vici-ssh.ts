import { z } from 'zod';
import { ViciClient } from '../../transport/vici/client.js';
import { ChannelRefusedError } from '../../transport/ssh/channel.js';
import { BRIDGE_STDERR_BYTES, bridgeFailure } from '../../transport/ssh/stream.js';
import { shellQuote } from '../../transport/ssh/sections.js';
import type { SshEndpoint, SshStream, SshTransport } from '../../transport/ssh/types.js';
import { SSH_PROBER, socketCommandSchema, sshEndpoint, sshOptionsSchema, unixSocketPathSchema } from '../../config/ssh-block.js';
import type { ProbeLog } from '../../log/probe-log.js';
import { ProbeError, errorMessage } from '../../util/errors.js';
import type { ProberDefinition } from '../../probe/prober.js';
import { addStrongswanFamilies } from './metrics.js';
import { fetchViciSnapshot, viciFetchOptions } from './vici-fetch.js';

const optionsSchema = z.strictObject({
  ssh: sshOptionsSchema,
  /** charon.plugins.vici.socket without its unix://. */
  socket: unixSocketPathSchema.default('/var/run/charon.vici'),
  /** A bridge run instead of forwarding (sudo -n socat STDIO UNIX-CONNECT:...). */
  socket_command: socketCommandSchema.optional(),
  ...viciFetchOptions,
});

type Options = z.output<typeof optionsSchema>;

/**
 * strongSwan over VICI on the gateway's unix socket, carried by the pooled SSH connection:
 * either an OpenSSH stream-local forward straight to the socket, or `socket_command`'s
 * stdio. A probe's VICI commands are pipelined on one channel, so a probe starts one
 * bridge process at most. Stream-local channels are not sessions to OpenSSH (MaxSessions
 * does not count them), bridge commands are, and the pool spreads concurrent probes'
 * bridges over more connections when the server refuses.
 */
export const strongswanViciSsh: ProberDefinition<typeof optionsSchema> = {
  name: 'strongswan-vici-ssh',
  ...SSH_PROBER,
  addVendorFamilies: addStrongswanFamilies,
  optionsSchema,
  async probe({ target, options, signal, log, services }) {
    const endpoint = sshEndpoint(target, options.ssh);
    let bridge: SshStream | undefined;
    const limits = { maxResponseBytes: options.max_response_bytes };
    const open = async (sessionSignal: AbortSignal): Promise<ViciClient> => {
      const command = options.socket_command;
      if (command !== undefined) {
        bridge = await services.ssh.execStream(endpoint, command, { signal: sessionSignal, log, maxStderrBytes: BRIDGE_STDERR_BYTES });
        return ViciClient.over(bridge.stream, `socket_command on ${target.raw}`, log, limits);
      }
      try {
        const { stream } = await services.ssh.openStreamLocal(endpoint, options.socket, { signal: sessionSignal, log });
        return ViciClient.over(stream, `${options.socket} on ${target.raw}`, log, limits);
      } catch (err) {
        if (!(err instanceof ChannelRefusedError)) throw err;
        throw await diagnoseRefusal(services.ssh, endpoint, options, err, signal, log);
      }
    };
    try {
      return await fetchViciSnapshot(open, { pools: options.pools, certificates: options.certificates, signal, log });
    } catch (err) {
      throw (bridge && bridgeFailure([bridge], `socket_command "${options.socket_command}"`)) ?? err;
    }
  },
};

/**
 * OpenSSH refuses a stream-local forward with the same bare words whether the socket is
 * missing, the account may not open it, or forwarding is switched off (only its log
 * tells). A one-line test on the gateway, as the same account, tells them apart.
 */
async function diagnoseRefusal(
  ssh: SshTransport,
  endpoint: SshEndpoint,
  options: Options,
  refusal: ChannelRefusedError,
  signal: AbortSignal,
  log: ProbeLog,
): Promise<ProbeError> {
  const socket = options.socket;
  const user = options.ssh.username;
  const words = /Channel open failure: (.*)$/.exec(refusal.message)?.[1] ?? refusal.message;
  const bridge = `use socket_command, e.g. "sudo -n socat STDIO UNIX-CONNECT:${socket}"`;
  const p = shellQuote(socket);
  let code: number | null = null;
  try {
    const r = await ssh.exec(endpoint, `if [ ! -e ${p} ]; then exit 3; elif [ ! -S ${p} ]; then exit 4; elif [ ! -r ${p} ] || [ ! -w ${p} ]; then exit 5; fi`, {
      signal,
      log,
      maxOutputBytes: 4096,
    });
    code = r.exitCode;
  } catch (err) {
    log.debug('could not look at the socket after the refusal', { error: errorMessage(err) });
  }
  const said = `the SSH server refused a stream to ${socket} ("${words}")`;
  switch (code) {
    case 3:
      return new ProbeError(`${said}: ${socket} does not exist (is charon running, with its VICI socket there?)`, { cause: refusal });
    case 4:
      return new ProbeError(`${said}: ${socket} is not a socket`, { cause: refusal });
    case 5:
      return new ProbeError(`${said}: permission denied, ${user} may not open ${socket}; ${bridge}`, { cause: refusal });
    case 0:
      return new ProbeError(
        `${said}, though ${user} may open it: the server forbids stream-local forwarding (sshd AllowStreamLocalForwarding) or nothing listens there; ${bridge}`,
        { cause: refusal },
      );
    default:
      return new ProbeError(
        `${said}: the socket is missing, ${user} may not open it, or the server forbids stream-local forwarding (sshd AllowStreamLocalForwarding); ${bridge}`,
        { cause: refusal },
      );
  }
}
