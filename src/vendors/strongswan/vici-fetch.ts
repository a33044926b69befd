import { z } from 'zod';
import type { ViciClient, ViciCommand } from '../../transport/vici/client.js';
import { toMessage, type ViciMessage } from '../../transport/vici/message.js';
import type { ProbeLog } from '../../log/probe-log.js';
import type { Certificate, Crl, GatewaySnapshot, StrongswanIkeSa } from '../../model/snapshot.js';
import { decodeListSaEvent } from './vici-list-sa.js';
import { parseGetPools, parseListCertEvent, parseListConnEvent, parseViciStats, parseViciVersion, viciUptime } from './vici-records.js';
import { section } from './vici-value.js';
import type { ConfiguredConn } from './records.js';
import { buildStrongswanSnapshot } from './snapshot.js';
import { letYoungGenerationGrow } from '../../util/young-generation.js';

/** The options every VICI prober takes, whatever carries VICI. */
export const viciFetchOptions = {
  /** Bound on everything charon sends for one command (list-sas of a large concentrator). */
  max_response_bytes: z
    .number()
    .int()
    .min(1024)
    .max(1 << 30)
    .default(256 << 20),
  /** Ask get-pools; off for daemons without pools configured, to save a round trip. */
  pools: z.boolean().default(true),
  /** Ask list-certs for certificate and CRL expiry; off to save a round trip. */
  certificates: z.boolean().default(true),
};

/** Opens the probe's VICI session. */
export type OpenVici = (signal: AbortSignal) => Promise<ViciClient>;

/**
 * The strongSwan snapshot from VICI, whatever carries it. All commands go out at once on
 * one session and charon answers them in order: one round trip for the probe, and one
 * connection, channel or bridge process on the gateway (a `sudo socat` bridge costs more
 * to start than the commands take). The session is closed before this returns.
 */
export async function fetchViciSnapshot(
  open: OpenVici,
  opts: { pools: boolean; certificates: boolean; signal: AbortSignal; log: ProbeLog },
): Promise<GatewaySnapshot> {
  const { signal, log } = opts;
  // Opened before anything is built for the answers: a gateway that is down or refuses costs
  // the probe one connection attempt and nothing more.
  const client = await open(signal);
  const got: Collected = { ikeSas: [], conns: [], certificates: [], crls: [] };
  let commands: ViciCommand[];
  let answers: (ViciMessage | Error)[];
  try {
    commands = viciCommands(opts, got);
    answers = await client.pipeline(commands, signal);
  } finally {
    client.close();
  }
  const answered = new Map<string, ViciMessage>();
  commands.forEach(({ command }, i) => {
    const answer = answers[i]!;
    if (!(answer instanceof Error)) answered.set(command, answer);
    // A daemon (or a VICI proxy) without list-certs costs the certificates, not the probe.
    else if (command === 'list-certs') log.debug('list-certs not supported', { reason: answer.message });
    else throw answer;
  });
  const version = answered.get('version')!;
  const stats = answered.get('stats')!;
  const pools = answered.get('get-pools');
  const certs = answered.has('list-certs');
  const snapshot = buildStrongswanSnapshot({
    info: { ...parseViciVersion(version), uptimeSeconds: viciUptime(section(stats, 'uptime'), Date.now() / 1000) },
    conns: got.conns,
    ikeSas: got.ikeSas,
    certificates: certs ? got.certificates : undefined,
    crls: certs ? got.crls : undefined,
    pools: pools ? parseGetPools(pools) : [],
    stats: parseViciStats(stats),
  });
  log.debug('parsed', { ike_sas: snapshot.sessions.length, conns: snapshot.tunnels.length, pools: snapshot.pools.length });
  return snapshot;
}

/** What the streamed answers are collected into. */
interface Collected {
  ikeSas: StrongswanIkeSa[];
  conns: ConfiguredConn[];
  certificates: Certificate[];
  crls: Crl[];
}

/** IKE_SAs from which an answer is large: what its probe keeps outgrows a small young generation. */
const LARGE_ANSWER_SAS = 1000;

/** The probe's commands, in the order charon answers them; their streamed events land in `got`. */
function viciCommands(opts: { pools: boolean; certificates: boolean }, got: Collected): ViciCommand[] {
  const commands: ViciCommand[] = [
    { command: 'version' },
    { command: 'stats' },
    // The stream that grows with the gateway: decoded from its bytes straight into records.
    {
      command: 'list-sas',
      stream: {
        event: 'list-sa',
        onRawEvent: (body) => {
          decodeListSaEvent(body, got.ikeSas);
          if (got.ikeSas.length === LARGE_ANSWER_SAS) letYoungGenerationGrow();
        },
      },
    },
    { command: 'list-conns', stream: { event: 'list-conn', onEvent: (e) => got.conns.push(...parseListConnEvent(e)) } },
  ];
  if (opts.pools) commands.push({ command: 'get-pools', message: toMessage({ leases: 'yes' }) });
  if (opts.certificates) {
    const onEvent = (e: ViciMessage): void => {
      const { certificate, crl } = parseListCertEvent(e);
      if (certificate) got.certificates.push(certificate);
      if (crl) got.crls.push(crl);
    };
    commands.push({ command: 'list-certs', stream: { event: 'list-cert', onEvent } });
  }
  return commands;
}
