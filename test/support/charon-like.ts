import { getPoolsResponse, listConnEvents, listSaEvents, statsResponse, versionResponse } from './charon-shapes.js';
import { startViciServer, type ScriptedViciServer } from './vici-server.js';

/** A scripted VICI gateway answering every command the strongswan-vici-tcp prober asks, with `sas` IKE_SAs. */
export function startCharonLike(sas: number): Promise<ScriptedViciServer> {
  return startViciServer({
    commands: {
      version: () => ({ response: versionResponse() }),
      stats: () => ({ response: statsResponse(sas) }),
      'list-sas': () => ({ response: {}, events: listSaEvents(sas), eventName: 'list-sa' }),
      'list-conns': () => ({ response: {}, events: listConnEvents(sas), eventName: 'list-conn' }),
      'get-pools': () => ({ response: getPoolsResponse(1, sas) }),
    },
  });
}
