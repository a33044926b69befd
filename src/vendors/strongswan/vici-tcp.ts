import { z } from 'zod';
import { ViciClient } from '../../transport/vici/client.js';
import {
  parseGetPools,
  parseListCertEvent,
  parseListConnEvent,
  parseListSaEvent,
  parseViciStats,
  parseViciVersion,
  viciUptime,
} from './vici-records.js';
import { section } from './vici-value.js';
import { ProtocolError } from '../../util/errors.js';
import type { ConfiguredConn } from './records.js';
import { buildStrongswanSnapshot } from './snapshot.js';
import type { Certificate, Crl, StrongswanIkeSa } from '../../model/snapshot.js';
import type { ProberDefinition } from '../../probe/prober.js';
import { addStrongswanFamilies } from './metrics.js';

const optionsSchema = z.strictObject({
  /** Bound on everything charon sends for one command (list-sas of a large concentrator). */
  max_response_bytes: z.number().int().min(1024).max(1 << 30).default(256 << 20),
  /** Ask get-pools; off for daemons without pools configured, to save a round trip. */
  pools: z.boolean().default(true),
  /** Ask list-certs for certificate and CRL expiry; off to save a round trip. */
  certificates: z.boolean().default(true),
});

/**
 * strongSwan over VICI on TCP. Unauthenticated by design of VICI: the gateway must
 * restrict who reaches the port.
 *
 * charon writes every message as two TCP writes (length, then body) without
 * TCP_NODELAY, so each command can wait out the client's delayed ACK (~40 ms). The
 * six commands therefore run on three connections at once (VICI allows one command
 * in flight per connection): the probe waits for the slowest, not for the sum.
 */
export const strongswanViciTcp: ProberDefinition<typeof optionsSchema> = {
  name: 'strongswan-vici-tcp',
  defaultPort: 4502,
  addVendorFamilies: addStrongswanFamilies,
  optionsSchema,
  async probe({ target, options, signal: probeSignal, log }) {
    // The first failure cancels its siblings, so no connection outlives the probe.
    const siblings = new AbortController();
    const signal = AbortSignal.any([probeSignal, siblings.signal]);
    const clients: ViciClient[] = [];
    let firstError: unknown;
    const session = async <T>(work: (client: ViciClient) => Promise<T>): Promise<T> => {
      try {
        const client = await ViciClient.connect({ host: target.host, port: target.port, signal, log, maxResponseBytes: options.max_response_bytes });
        clients.push(client);
        return await work(client);
      } catch (err) {
        firstError ??= err;
        siblings.abort(err);
        throw err;
      }
    };
    const settled = await Promise.allSettled([
      session(async (c) => [
        await c.request('version', undefined, signal),
        await c.request('stats', undefined, signal),
        options.pools ? await c.request('get-pools', { leases: 'yes' }, signal) : undefined,
      ] as const),
      session(async (c) => {
        const ikeSas: StrongswanIkeSa[] = [];
        await c.streamedRequest('list-sas', 'list-sa', undefined, signal, (e) => ikeSas.push(...parseListSaEvent(e)));
        return ikeSas;
      }),
      session(async (c) => {
        const conns: ConfiguredConn[] = [];
        await c.streamedRequest('list-conns', 'list-conn', undefined, signal, (e) => conns.push(...parseListConnEvent(e)));
        if (!options.certificates) return { conns };
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
            log.debug('list-certs not supported', { reason: err.message });
            return { conns };
          }
          throw err;
        }
        return { conns, certificates, crls };
      }),
    ]);
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
    log.debug('parsed', { ike_sas: snapshot.sessions.length, conns: snapshot.tunnels.length, pools: snapshot.pools.length });
    return snapshot;
  },
};
