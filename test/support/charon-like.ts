import { getPoolsResponse, listConnEvents, listSaEvents, statsResponse, versionResponse, type SaMix } from './charon-shapes.js';
import { startViciServer, type CommandHandler, type ScriptedViciServer } from './vici-server.js';

export interface CharonSize {
  sas: number;
  /** Configured connections; default `sas`. */
  conns?: number;
  pools?: number;
  /** Leases per pool; default `sas`. */
  leases?: number;
  mix?: SaMix;
}

/**
 * Every command the strongswan-vici-tcp prober asks, answered as charon 5.9 would with that many
 * IKE_SAs. The replies are made once: the server encodes them once too, however often it is asked.
 */
export function charonCommands({ sas, conns = sas, pools = 1, leases = sas, mix }: CharonSize): Record<string, CommandHandler> {
  const replies = {
    version: { response: versionResponse() },
    stats: { response: statsResponse(sas) },
    'list-sas': { response: {}, events: listSaEvents(sas, mix), eventName: 'list-sa' },
    'list-conns': { response: {}, events: listConnEvents(conns), eventName: 'list-conn' },
    'get-pools': { response: getPoolsResponse(pools, leases) },
  };
  return Object.fromEntries(Object.entries(replies).map(([name, reply]) => [name, () => reply]));
}

/** A scripted VICI gateway answering every command the strongswan-vici-tcp prober asks, with `sas` IKE_SAs. */
export function startCharonLike(sas: number): Promise<ScriptedViciServer> {
  return startViciServer({ commands: charonCommands({ sas }) });
}
