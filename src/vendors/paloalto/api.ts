import { z } from 'zod';
import { HTTPS_PROBER, httpsEndpoint, httpsOptionsSchema } from '../../config/https-block.js';
import type { ProbeLog } from '../../log/probe-log.js';
import type { ProberDefinition } from '../../probe/prober.js';
import { PanosApi, PanosApiError, xmlEscape } from './api-client.js';
import { meansNoGlobalProtect, type PanosGpStatistics, type PanosGpUser } from './global-protect.js';
import { addPaloaltoFamilies } from './metrics.js';
import { optionalCommand, panosDetailOptions, panosMaxBytes } from './optional.js';
import { buildPaloaltoSnapshot } from './snapshot.js';
import type { XmlObject } from './xml.js';
import {
  parseGpCurrentUsersXml,
  parseGpStatisticsXml,
  parseHaStateXml,
  parseIkeSaXml,
  parseIpsecSaXml,
  parseSystemInfoXml,
  parseVpnFlowXml,
} from './xml-parsers.js';

const optionsSchema = z.strictObject({
  https: httpsOptionsSchema,
  /** Bound on each answer's body. */
  max_response_bytes: panosMaxBytes,
  ...panosDetailOptions,
});

/**
 * The commands, as the CLI words (which label `paloalto_command_success`, as on paloalto-ssh)
 * and their XML form for `type=op`.
 */
const OP = {
  systemInfo: ['show system info', '<show><system><info/></system></show>'],
  vpnFlow: ['show vpn flow', '<show><vpn><flow/></vpn></show>'],
  ha: ['show high-availability state', '<show><high-availability><state/></high-availability></show>'],
  ikeSa: ['show vpn ike-sa', '<show><vpn><ike-sa/></vpn></show>'],
  ipsecSa: ['show vpn ipsec-sa', '<show><vpn><ipsec-sa/></vpn></show>'],
  gpStats: ['show global-protect-gateway statistics', '<show><global-protect-gateway><statistics/></global-protect-gateway></show>'],
  gpUsers: ['show global-protect-gateway current-user', '<show><global-protect-gateway><current-user/></global-protect-gateway></show>'],
} as const;

function gpUsersOf(gateway: string): string {
  return `<show><global-protect-gateway><current-user><gateway>${xmlEscape(gateway)}</gateway></current-user></global-protect-gateway></show>`;
}

interface OptionalCtx {
  log: ProbeLog;
  commands: Record<string, boolean>;
}

/** An op command whose answer only adds detail (see optionalCommand); `empty` as there. */
function optional<T>(
  api: PanosApi,
  [command, cmd]: readonly [string, string],
  parse: (r: XmlObject) => T,
  ctx: OptionalCtx & { empty?: (deviceWords: string) => T | undefined },
): Promise<T | undefined> {
  return optionalCommand(command, async () => parse(await api.op(command, cmd)), {
    ...ctx,
    refusal: (err) => (err instanceof PanosApiError ? err.deviceWords : undefined),
  });
}

/**
 * Users per GlobalProtect gateway. The XML entries do not name their gateway, so with more
 * than one gateway each is asked on its own (`<gateway>` filter); with one, one question.
 */
async function gpUsers(api: PanosApi, stats: PanosGpStatistics | undefined, ctx: OptionalCtx): Promise<PanosGpUser[] | undefined> {
  const names = stats?.gateways.map((g) => g.name) ?? [];
  const gpCtx = { ...ctx, empty: (words: string) => (meansNoGlobalProtect(words) ? [] : undefined) };
  if (names.length <= 1) return await optional(api, OP.gpUsers, (r) => parseGpCurrentUsersXml(r, names[0] ?? ''), gpCtx);
  const users: PanosGpUser[] = [];
  for (const name of names) {
    const some = await optional(api, [OP.gpUsers[0], gpUsersOf(name)], (r) => parseGpCurrentUsersXml(r, name), gpCtx);
    if (some === undefined) return undefined;
    users.push(...some);
  }
  return users;
}

/**
 * PAN-OS over its XML API (HTTPS): the same commands as paloalto-ssh in their XML form,
 * read into the same records and the same snapshot. Lighter on the management plane than
 * an interactive CLI: no shell, no pager, one kept-alive TLS connection per target.
 */
export const paloaltoApi: ProberDefinition<typeof optionsSchema> = {
  name: 'paloalto-api',
  ...HTTPS_PROBER,
  addVendorFamilies: addPaloaltoFamilies,
  optionsSchema,
  async probe({ target, options, signal, log, services }) {
    const { endpoint, credentials } = httpsEndpoint(target, options.https);
    const api = new PanosApi(services.https.client(endpoint), credentials, { signal, log, maxResponseBytes: options.max_response_bytes });
    const system = parseSystemInfoXml(await api.op(...OP.systemInfo));
    const flow = parseVpnFlowXml(await api.op(...OP.vpnFlow));
    const commands: Record<string, boolean> = {};
    const ctx = { log, commands };
    const ha = options.high_availability ? await optional(api, OP.ha, parseHaStateXml, ctx) : undefined;
    const ikeSas = options.sa_detail ? await optional(api, OP.ikeSa, parseIkeSaXml, ctx) : undefined;
    const ipsecSas = options.sa_detail ? await optional(api, OP.ipsecSa, parseIpsecSaXml, ctx) : undefined;
    const gpStats = options.globalprotect
      ? await optional(api, OP.gpStats, parseGpStatisticsXml, { ...ctx, empty: (words) => (meansNoGlobalProtect(words) ? { gateways: [] } : undefined) })
      : undefined;
    const users = options.globalprotect ? await gpUsers(api, gpStats, ctx) : undefined;
    log.debug('parsed', { tunnels: flow.tunnels.length, skipped_entries: flow.skippedLines, gp_users: users?.length, requests: api.requests });
    return buildPaloaltoSnapshot({ system, flow, ha, ikeSas, ipsecSas, gpUsers: users, gpStats, commands, nowMs: Date.now() });
  },
};
