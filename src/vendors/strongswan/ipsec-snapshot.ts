import type { IpsecConf } from './ipsec-conf.js';
import type { IpsecIkeSa, IpsecStatus } from './ipsec-status.js';
import type { ConfiguredConn } from './records.js';
import { buildStrongswanSnapshot } from './snapshot.js';
import type { GatewaySnapshot, StrongswanIkeSa } from '../../model/snapshot.js';

const USER_AUTH = /eap|xauth/i;

/** A road warrior's virtual IP shows in stroke output only as its child's single-host remote selector. */
function virtualIpsOf(sa: IpsecIkeSa): string[] {
  const ips = new Set<string>();
  for (const c of sa.children) for (const ts of c.remoteTs) if (/\/(32|128)$/.test(ts)) ips.add(ts.replace(/\/\d+$/, ''));
  return [...ips];
}

function toIkeSa(sa: IpsecIkeSa, multiUser: boolean): StrongswanIkeSa {
  return {
    conn: sa.conn,
    uniqueId: sa.uniqueId,
    version: sa.version ?? 2,
    state: sa.state,
    localHost: sa.localHost,
    remoteHost: sa.remoteHost,
    localId: sa.localId,
    remoteId: sa.remoteId,
    remoteUserId: sa.remoteUserId,
    establishedSeconds: sa.establishedSeconds,
    rekeySeconds: sa.rekeySeconds,
    reauthSeconds: sa.reauthSeconds,
    virtualIps: multiUser ? virtualIpsOf(sa) : [],
    children: sa.children.map((c) => ({
      name: c.name,
      uniqueId: c.uniqueId,
      state: c.state,
      mode: c.mode,
      protocol: c.protocol,
      encap: c.encap,
      traffic: c.traffic ?? { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 },
      rekeySeconds: c.rekeySeconds,
      lifeSeconds: c.expiresSeconds,
      localTs: c.localTs,
      remoteTs: c.remoteTs,
    })),
  };
}

/**
 * ipsec.conf says what is configured (auto=ignore included, which charon never
 * sees); `ipsec statusall` says what is loaded and live. A conn loaded by other
 * means still counts.
 */
export function buildIpsecSnapshot(conf: IpsecConf, status: IpsecStatus, hostname: string | undefined): GatewaySnapshot {
  const conns = new Map<string, ConfiguredConn>();
  for (const c of conf.conns) {
    conns.set(c.name, {
      name: c.name,
      kind: c.kind === 'multi-user' ? 'remote-access' : 'site-to-site',
      ignored: c.kind === 'ignored',
      localAddress: c.settings.left,
      remoteAddress: c.settings.right,
      children: [c.name],
    });
  }
  for (const c of status.connections) {
    const loaded = conns.get(c.name);
    const multiUser = c.remoteAuth.some((a) => USER_AUTH.test(a.uses));
    // A conn in statusall was loaded, whatever the file says now (it may have changed since).
    conns.set(c.name, {
      name: c.name,
      kind: multiUser || loaded?.kind === 'remote-access' ? 'remote-access' : 'site-to-site',
      ignored: false,
      localAddress: c.localAddresses,
      remoteAddress: c.remoteAddresses,
      children: [...new Set([...(loaded?.children ?? []), ...c.children.map((ch) => ch.name)])],
    });
  }
  const d = status.daemon;
  return buildStrongswanSnapshot({
    info: {
      product: 'charon',
      version: d?.version,
      os: [d?.system, d?.machine].filter(Boolean).join(' ') || undefined,
      hostname,
      uptimeSeconds: d?.uptimeSeconds,
    },
    conns: [...conns.values()],
    ikeSas: status.ikeSas.map((sa) => toIkeSa(sa, conns.get(sa.conn)?.kind === 'remote-access')),
    pools: status.pools.map((p) => ({ name: p.name, size: p.size, online: p.online, offline: p.offline })),
    stats: {
      ikeSasTotal: status.ikeSasTotal,
      ikeSasHalfOpen: status.ikeSasHalfOpen,
      workers: status.workers,
      queues: status.queues,
      scheduled: status.scheduled,
    },
  });
}
