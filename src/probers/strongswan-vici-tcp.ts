import { z } from 'zod';
import { ViciClient } from '../transport/vici/client.js';
import {
  parseGetPools,
  parseListConnEvent,
  parseListSaEvent,
  parseViciStats,
  parseViciVersion,
} from '../parsers/strongswan/vici-records.js';
import { buildStrongswanSnapshot } from '../snapshot/strongswan.js';
import type { ProberDefinition } from './types.js';

const optionsSchema = z.strictObject({
  /** Bound on everything charon sends for one command (list-sas of a large concentrator). */
  max_response_bytes: z.number().int().min(1024).max(1 << 30).default(256 << 20),
  /** Ask get-pools; off for daemons without pools configured, to save a round trip. */
  pools: z.boolean().default(true),
});

/**
 * strongSwan over VICI on TCP. Unauthenticated by design of VICI: the gateway must
 * restrict who reaches the port. Asks version, stats, list-sas, list-conns, get-pools
 * on one connection, one command at a time.
 */
export const strongswanViciTcp: ProberDefinition<typeof optionsSchema> = {
  name: 'strongswan-vici-tcp',
  defaultPort: 4502,
  optionsSchema,
  async probe({ target, options, signal, log }) {
    const client = await ViciClient.connect({
      host: target.host,
      port: target.port,
      signal,
      log,
      maxResponseBytes: options.max_response_bytes,
    });
    try {
      const version = await client.request('version', undefined, signal);
      const stats = await client.request('stats', undefined, signal);
      const sas = await client.streamedRequest('list-sas', 'list-sa', undefined, signal);
      const conns = await client.streamedRequest('list-conns', 'list-conn', undefined, signal);
      const pools = options.pools ? await client.request('get-pools', { leases: 'yes' }, signal) : undefined;
      const { stats: daemonStats, uptimeSeconds } = parseViciStats(stats, Date.now() / 1000);
      const snapshot = buildStrongswanSnapshot({
        info: { ...parseViciVersion(version), uptimeSeconds },
        conns: conns.events.flatMap(parseListConnEvent),
        ikeSas: sas.events.flatMap(parseListSaEvent),
        pools: pools ? parseGetPools(pools) : [],
        stats: daemonStats,
      });
      log.debug('parsed', { ike_sas: snapshot.sessions.length, conns: snapshot.tunnels.length, pools: snapshot.pools.length });
      return snapshot;
    } finally {
      client.close();
    }
  },
};
