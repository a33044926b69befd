import { z } from 'zod';
import type { ViciClient } from '../../transport/vici/client.js';
import type { ProbeLog } from '../../log/probe-log.js';
import type { Certificate, Crl, GatewaySnapshot, StrongswanIkeSa } from '../../model/snapshot.js';
import { onAbort } from '../../util/abort.js';
import { ProtocolError } from '../../util/errors.js';
import { parseGetPools, parseListCertEvent, parseListConnEvent, parseListSaEvent, parseViciStats, parseViciVersion, viciUptime } from './vici-records.js';
import { section } from './vici-value.js';
import type { ConfiguredConn } from './records.js';
import { buildStrongswanSnapshot } from './snapshot.js';

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

/** Opens one VICI session; the signal fires when a sibling session failed or the probe ends. */
export type OpenVici = (signal: AbortSignal) => Promise<ViciClient>;

/**
 * The strongSwan snapshot from VICI, whatever carries it. The six commands run on three
 * sessions at once (VICI allows one command in flight per session): the probe waits for
 * the slowest session, not for the sum, which matters where charon's two writes per
 * message meet a delayed ACK. The longest session (list-conns, then list-certs) opens
 * first and the other two once it is open: a gateway that is down or refuses costs one
 * connection attempt, not three, and the two shorter sessions still finish within the
 * longest one's time. The first failure cancels its siblings, and every session is
 * closed before this returns, so none outlives the probe.
 */
export async function fetchViciSnapshot(
  open: OpenVici,
  opts: { pools: boolean; certificates: boolean; signal: AbortSignal; log: ProbeLog },
): Promise<GatewaySnapshot> {
  // Fires when the probe's signal does or a session failed. Not AbortSignal.any(): its
  // bookkeeping (weak references to dependent signals) showed in the engine's profile.
  const siblings = new AbortController();
  const { signal } = siblings;
  const forward = onAbort(opts.signal, (reason) => siblings.abort(reason));
  const clients: ViciClient[] = [];
  let firstError: unknown;
  const session = async <T>(opening: Promise<ViciClient>, work: (client: ViciClient) => Promise<T>): Promise<T> => {
    try {
      const client = await opening;
      clients.push(client);
      return await work(client);
    } catch (err) {
      firstError ??= err;
      siblings.abort(err);
      throw err;
    }
  };
  const first = open(signal);
  const afterFirst = () => first.then(() => open(signal));
  const settled = await Promise.allSettled([
    session(
      afterFirst(),
      async (c) =>
        [
          await c.request('version', undefined, signal),
          await c.request('stats', undefined, signal),
          opts.pools ? await c.request('get-pools', { leases: 'yes' }, signal) : undefined,
        ] as const,
    ),
    session(afterFirst(), async (c) => {
      const ikeSas: StrongswanIkeSa[] = [];
      await c.streamedRequest('list-sas', 'list-sa', undefined, signal, (e) => ikeSas.push(...parseListSaEvent(e)));
      return ikeSas;
    }),
    session(first, async (c) => {
      const conns: ConfiguredConn[] = [];
      await c.streamedRequest('list-conns', 'list-conn', undefined, signal, (e) => conns.push(...parseListConnEvent(e)));
      if (!opts.certificates) return { conns };
      const certificates: Certificate[] = [];
      const crls: Crl[] = [];
      try {
        await c.streamedRequest('list-certs', 'list-cert', undefined, signal, (e) => {
          const { certificate, crl } = parseListCertEvent(e);
          if (certificate) certificates.push(certificate);
          if (crl) crls.push(crl);
        });
      } catch (err) {
        // A daemon (or a VICI proxy) without list-certs costs the certificates, not the probe.
        if (err instanceof ProtocolError && /^unknown (command|event)/.test(err.message)) {
          opts.log.debug('list-certs not supported', { reason: err.message });
          return { conns };
        }
        throw err;
      }
      return { conns, certificates, crls };
    }),
  ]);
  forward();
  for (const c of clients) c.close();
  const [daemon, sas, conns] = settled;
  if (daemon.status !== 'fulfilled' || sas.status !== 'fulfilled' || conns.status !== 'fulfilled') throw firstError;
  const [version, stats, pools] = daemon.value;
  const snapshot = buildStrongswanSnapshot({
    info: { ...parseViciVersion(version), uptimeSeconds: viciUptime(section(stats, 'uptime'), Date.now() / 1000) },
    conns: conns.value.conns,
    ikeSas: sas.value,
    certificates: conns.value.certificates,
    crls: conns.value.crls,
    pools: pools ? parseGetPools(pools) : [],
    stats: parseViciStats(stats),
  });
  opts.log.debug('parsed', { ike_sas: snapshot.sessions.length, conns: snapshot.tunnels.length, pools: snapshot.pools.length });
  return snapshot;
}
