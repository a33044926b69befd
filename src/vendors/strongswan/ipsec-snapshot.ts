import type { IpsecConf } from './ipsec-conf.js';
import type { IpsecIkeSa, IpsecStatus } from './ipsec-status.js';
import { shuntMode, type ConfiguredConn } from './records.js';
import { buildStrongswanSnapshot } from './snapshot.js';
import type { Certificate, Crl, GatewaySnapshot, Shunt, StrongswanIkeSa } from '../../model/snapshot.js';

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
export function buildIpsecSnapshot(
  conf: IpsecConf,
  status: IpsecStatus,
  hostname: string | undefined,
  pki?: { certificates: Certificate[]; crls: Crl[] },
): GatewaySnapshot {
  const conns = new Map<string, ConfiguredConn>();
  const words = (v: string | undefined) => (v ?? '').split(/[\s,]+/).filter(Boolean);
  for (const c of conf.conns) {
    const shunts: Shunt[] = c.shunt
      ? [{ conn: c.name, name: c.name, mode: c.shunt, localTs: words(c.settings.leftsubnet), remoteTs: words(c.settings.rightsubnet) }]
      : [];
    conns.set(c.name, {
      name: c.name,
      kind: c.kind === 'multi-user' ? 'remote-access' : 'site-to-site',
      ignored: c.kind === 'ignored',
      localAddress: c.settings.left,
      remoteAddress: c.settings.right,
      children: c.shunt ? [] : [c.name],
      shunts,
    });
  }
  for (const c of status.connections) {
    const loaded = conns.get(c.name);
    const multiUser = c.remoteAuth.some((a) => USER_AUTH.test(a.uses));
    const shunts = new Map((loaded?.shunts ?? []).map((s) => [s.name, s]));
    const children = new Set(loaded?.children ?? []);
    for (const ch of c.children) {
      const mode = shuntMode(ch.mode);
      if (mode) {
        children.delete(ch.name);
        shunts.set(ch.name, { conn: c.name, name: ch.name, mode, localTs: ch.localTs, remoteTs: ch.remoteTs });
      } else if (!shunts.has(ch.name)) {
        children.add(ch.name);
      }
    }
    // A conn in statusall was loaded, whatever the file says now (it may have changed since). One that
    // stroke merged into another conn's peer config has only a child line there, so no addresses.
    conns.set(c.name, {
      name: c.name,
      kind: multiUser || loaded?.kind === 'remote-access' ? 'remote-access' : 'site-to-site',
      ignored: false,
      localAddress: c.localAddresses || loaded?.localAddress,
      remoteAddress: c.remoteAddresses || loaded?.remoteAddress,
      children: [...children],
      shunts: [...shunts.values()],
    });
  }
  // "Shunted Connections" lists the shunt policies charon has installed (auto=route); stroke loads
  // shunts without a peer config, so they may be missing from "Connections:".
  const installedShunts = new Set<string>();
  for (const sh of status.shunted) {
    const mode = shuntMode(sh.mode);
    if (!mode) continue;
    const conn = conns.get(sh.name);
    installedShunts.add(`${sh.name}/${sh.name}`);
    if (!conn) {
      conns.set(sh.name, {
        name: sh.name,
        kind: 'site-to-site',
        ignored: false,
        children: [],
        shunts: [{ conn: sh.name, name: sh.name, mode, localTs: sh.localTs, remoteTs: sh.remoteTs }],
      });
    } else if (!(conn.shunts ?? []).some((s) => s.name === sh.name)) {
      conn.children = conn.children.filter((n) => n !== sh.name);
      conn.shunts = [...(conn.shunts ?? []), { conn: sh.name, name: sh.name, mode, localTs: sh.localTs, remoteTs: sh.remoteTs }];
      conn.ignored = false;
    } else {
      conn.ignored = false;
    }
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
    installedShunts,
    ...pki,
  });
}
