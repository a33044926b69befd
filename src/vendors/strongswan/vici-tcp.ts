import { z } from 'zod';
import { ViciClient } from '../../transport/vici/client.js';
import type { ProberDefinition } from '../../probe/prober.js';
import { addStrongswanFamilies } from './metrics.js';
import { fetchViciSnapshot, viciFetchOptions } from './vici-fetch.js';

const optionsSchema = z.strictObject(viciFetchOptions);

/**
 * strongSwan over VICI on TCP. Unauthenticated by design of VICI: the gateway must
 * restrict who reaches the port. Each session is a TCP connection of its own.
 */
export const strongswanViciTcp: ProberDefinition<typeof optionsSchema> = {
  name: 'strongswan-vici-tcp',
  defaultPort: 4502,
  addVendorFamilies: addStrongswanFamilies,
  optionsSchema,
  probe({ target, options, signal, log }) {
    const open = (sessionSignal: AbortSignal) =>
      ViciClient.connect({ host: target.host, port: target.port, signal: sessionSignal, log, maxResponseBytes: options.max_response_bytes });
    return fetchViciSnapshot(open, { pools: options.pools, certificates: options.certificates, signal, log });
  },
};
