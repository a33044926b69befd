import type { GatewaySnapshot, Session, Traffic } from '../model/snapshot.js';

/**
 * One connected peer or user as GET /sessions answers it.
 *
 * The lower-case fields are the ones the exporters this project replaces served
 * on their /sessions, with their types: every value a string, "" when the
 * prober does not know it, lists joined with ",". Scripts written against them
 * keep working unchanged. The camel-case fields are ours and typed (numbers,
 * arrays, null when unknown), named so that none differs from a seed field by
 * case only.
 */
export interface SessionRow {
  server: string;
  protocol: string;
  uniqueid: string;
  state: string;
  remotehost: string;
  remoteport: string;
  remoteid: string;
  remotets: string;
  localts: string;
  /** ISO 8601, UTC, whole seconds. */
  established: string;
  bytesin: string;
  bytesout: string;
  packetsin: string;
  packetsout: string;

  tunnel: string;
  user: string;
  virtualAddresses: string[];
  trafficSelectors: { local: string[]; remote: string[] };
  connectedSeconds: number | null;
  /** null when the gateway does not count traffic per session (PAN-OS GlobalProtect). */
  traffic: Traffic | null;
  /** Descriptive fields for people (computer, client OS), {} when none. */
  details: Record<string, string>;
}

function text(v: string | number | undefined): string {
  return v === undefined ? '' : String(v);
}

function establishedAt(probedAtMs: number, connectedSeconds: number | undefined): string {
  if (connectedSeconds === undefined || !Number.isFinite(connectedSeconds)) return '';
  const at = new Date(Math.round(probedAtMs / 1000 - connectedSeconds) * 1000);
  return Number.isNaN(at.getTime()) ? '' : at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The peer's own identity, which for a road warrior differs from the user it authenticated as. */
function remoteIdOf(snapshot: GatewaySnapshot, s: Session): string {
  const sa = snapshot.strongswan?.ikeSas.find((x) => x.uniqueId === s.id && x.conn === s.tunnel);
  return sa?.remoteId ?? s.user;
}

/**
 * Rows for every session of a snapshot. `server` is the gateway's host name,
 * or `fallbackServer` (the probed host) when the gateway did not tell it;
 * `probedAtMs` anchors `established`.
 */
export function sessionRows(snapshot: GatewaySnapshot, fallbackServer: string, probedAtMs: number): SessionRow[] {
  const server = snapshot.info.hostname || fallbackServer;
  return snapshot.sessions.map((s) => ({
    server,
    protocol: text(s.protocol),
    uniqueid: s.id,
    state: s.state,
    remotehost: text(s.remoteAddress),
    remoteport: text(s.remotePort),
    remoteid: remoteIdOf(snapshot, s),
    remotets: (s.remoteTs ?? []).join(','),
    localts: (s.localTs ?? []).join(','),
    established: establishedAt(probedAtMs, s.connectedSeconds),
    bytesin: text(s.traffic?.bytesIn),
    bytesout: text(s.traffic?.bytesOut),
    packetsin: text(s.traffic?.packetsIn),
    packetsout: text(s.traffic?.packetsOut),
    tunnel: s.tunnel,
    user: s.user,
    virtualAddresses: [...s.virtualAddresses],
    trafficSelectors: { local: [...(s.localTs ?? [])], remote: [...(s.remoteTs ?? [])] },
    connectedSeconds: s.connectedSeconds ?? null,
    traffic: s.traffic ? { ...s.traffic } : null,
    details: { ...s.details },
  }));
}
