/** The landing page's view of one /api/probe answer: outcome, links, gateway tables and the raw metrics. */
import type { GatewayInfo, GatewaySnapshot, WireguardDetail } from '../../model/snapshot.js';
import { fromNow, humanBytes, humanDuration } from '../pages/format.js';
import { el, table, type Child } from './dom.js';

/** The body of a 200 from /api/probe (routes/api.ts). */
export interface ProbeResult {
  id: number;
  time: string;
  module: string;
  prober: string;
  target: string;
  success: boolean;
  durationSeconds: number;
  /** Sample lines in `metrics`. */
  series: number;
  reason: string | null;
  /** The reason from the documented set (timeout, auth_failed, ...), beside the human text. */
  failureReason: string | null;
  snapshot: GatewaySnapshot | null;
  metrics: string;
}

export const query = (target: string, module: string): string => new URLSearchParams({ target, module }).toString();

function badge(state: string, detail: string | undefined): HTMLElement {
  // The state becomes a class name: keep only what the stylesheet's badge-* classes use.
  const wrap = el('span', null, [el('span', { class: `badge badge-${state.replace(/[^a-z-]/g, '')}` }, [state])]);
  if (detail && detail !== state) wrap.append(' ', el('span', { class: 'detail' }, [detail]));
  return wrap;
}

function hostPort(host: string | undefined, port: number | undefined): string {
  if (!host) return '';
  if (port === undefined || port === null) return host;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function outcomeBox(ok: boolean, title: string, lines: readonly string[], reason: string | null): HTMLElement {
  return el('div', { class: `outcome ${ok ? 'ok' : 'fail'}`, id: 'probe-outcome' }, [
    el('strong', null, [title]),
    ...lines.map((l) => el('span', null, [l])),
    reason ? el('span', { class: 'reason' }, [`Reason: ${reason}`]) : null,
  ]);
}

function infoList(info: GatewayInfo): HTMLElement {
  const items: [string, string | undefined][] = [
    ['Vendor', info.vendor],
    ['Product', info.product],
    ['Version', info.version],
    ['Host name', info.hostname],
    ['OS', info.os],
    ['Model', info.model],
    ['Serial', info.serial],
    ['Uptime', info.uptimeSeconds === undefined ? undefined : humanDuration(info.uptimeSeconds)],
  ];
  const shown = items.filter(([, v]) => v !== undefined && v !== '');
  return el(
    'dl',
    { class: 'info', id: 'gateway-info' },
    shown.flatMap(([k, v]) => [el('dt', null, [k]), el('dd', null, [v])]),
  );
}

/** The gateway's tables; connection times are drawn relative to when the probe ended, not to now. */
function snapshotNodes(s: GatewaySnapshot, endMs: number): HTMLElement[] {
  const nodes = [el('h2', null, ['Gateway']), infoList(s.info)];
  nodes.push(
    el('h2', null, [`Tunnels (${s.tunnels.length})`]),
    table(
      'tunnels',
      'Tunnels',
      ['Name', 'Kind', 'State', 'Sessions', 'Local', 'Remote', 'In', 'Out'],
      s.tunnels.map((t) => [
        t.name,
        t.kind,
        badge(t.state, t.detail),
        String(t.activeSessions),
        t.localAddress || '',
        t.remoteAddress || '',
        t.traffic ? humanBytes(t.traffic.bytesIn) : '',
        t.traffic ? humanBytes(t.traffic.bytesOut) : '',
      ]),
      'The gateway reports no tunnel.',
    ),
  );
  nodes.push(
    el('h2', null, [`Sessions and users (${s.sessions.length})`]),
    table(
      'sessions',
      'Sessions and users',
      ['User', 'Tunnel', 'Remote address', 'Virtual IP', 'In', 'Out', 'Connected since'],
      s.sessions.map((u): Child[] => {
        let since: Child = '';
        if (typeof u.connectedSeconds === 'number') {
          const at = new Date(endMs - u.connectedSeconds * 1000);
          since = el('span', null, [
            el('time', { datetime: at.toISOString() }, [at.toLocaleString()]),
            ' ',
            el('span', { class: 'detail' }, [`(${humanDuration(u.connectedSeconds)})`]),
          ]);
        }
        return [
          u.user,
          u.tunnel,
          hostPort(u.remoteAddress, u.remotePort),
          u.virtualAddresses.join(', '),
          u.traffic ? humanBytes(u.traffic.bytesIn) : '',
          u.traffic ? humanBytes(u.traffic.bytesOut) : '',
          since,
        ];
      }),
      'No peer or user is connected.',
    ),
  );
  if (s.wireguard) nodes.push(...wireguardNodes(s.wireguard));
  if (s.pools.length > 0) {
    nodes.push(
      el('h2', null, [`Address pools (${s.pools.length})`]),
      table(
        'pools',
        'Address pools',
        ['Name', 'Base', 'Size', 'Online', 'Offline'],
        s.pools.map((p) => [p.name, p.base || '', String(p.size), String(p.online), String(p.offline)]),
        '',
      ),
    );
  }
  const shunts = s.shunts ?? [];
  if (shunts.length > 0) {
    nodes.push(
      el('h2', null, [`Shunts (${shunts.length})`]),
      el('p', { class: 'hint' }, ['Pass and drop policies: not tunnels, so never counted as down.']),
      table(
        'shunts',
        'Shunts',
        ['Conn', 'Child', 'Mode', 'Local', 'Remote', 'Installed'],
        shunts.map((h) => [h.conn, h.name, h.mode, h.localTs.join(', '), h.remoteTs.join(', '), h.installed === undefined ? '' : h.installed ? 'yes' : 'no']),
        '',
      ),
    );
  }
  const certificates = s.certificates ?? [];
  const crls = s.crls ?? [];
  const nowSeconds = endMs / 1000;
  if (certificates.length + crls.length > 0) {
    nodes.push(
      el('h2', null, [`Certificates (${certificates.length}) and CRLs (${crls.length})`]),
      table(
        'certificates',
        'Certificates',
        ['Subject', 'Issuer', 'Role', 'Private key', 'Expires'],
        certificates.map((c) => [c.subject, c.issuer, c.role, c.hasPrivateKey ? 'held' : '', when(c.notAfterTimestamp, nowSeconds)]),
        'The daemon holds no certificate.',
      ),
      table(
        'crls',
        'CRLs',
        ['Issuer', 'Next update'],
        crls.map((c) => [c.issuer, c.nextUpdateTimestamp === undefined ? 'none named' : when(c.nextUpdateTimestamp, nowSeconds)]),
        '',
      ),
    );
  }
  return nodes;
}

/** Every WireGuard interface and peer, connected or not: names, keys, endpoints and handshake ages (never metric labels). */
function wireguardNodes(w: WireguardDetail): HTMLElement[] {
  const peers = w.interfaces.flatMap((i) => i.peers.map((p) => ({ iface: i.name, p })));
  const state = (connected: boolean, never: boolean) =>
    el('span', { class: `badge ${connected ? 'badge-up' : 'badge-ignored'}` }, [connected ? 'connected' : never ? 'never' : 'idle']);
  return [
    el('h2', null, [`WireGuard interfaces (${w.interfaces.length})`]),
    table(
      'wg-interfaces',
      'WireGuard interfaces',
      ['Interface', 'Listen port', 'Public key', 'Peers connected'],
      w.interfaces.map((i) => [
        i.name,
        i.listenPort === undefined ? '' : String(i.listenPort),
        el('code', null, [i.publicKey ?? '']),
        `${i.peers.filter((p) => p.connected).length} of ${i.peers.length}`,
      ]),
      'The gateway has no WireGuard interface.',
    ),
    el('h2', null, [`WireGuard peers (${peers.length})`]),
    el('p', { class: 'hint' }, [`Connected: latest handshake younger than ${humanDuration(w.connectedWithinSeconds)} (the module's connected_within).`]),
    table(
      'wg-peers',
      'WireGuard peers',
      ['Peer', 'Interface', 'State', 'Latest handshake', 'Endpoint', 'Allowed IPs', 'Keepalive', 'In', 'Out', 'Public key'],
      peers.map(({ iface, p }) => [
        p.label,
        iface,
        state(p.connected, p.latestHandshakeTimestamp === undefined),
        p.latestHandshakeTimestamp === undefined || p.handshakeAgeSeconds === undefined
          ? 'never'
          : el('span', null, [
              el('time', { datetime: new Date(p.latestHandshakeTimestamp * 1000).toISOString() }, [`${humanDuration(p.handshakeAgeSeconds)} ago`]),
            ]),
        p.endpoint ?? '',
        p.allowedIps.join(', '),
        p.persistentKeepaliveSeconds === undefined ? '' : `${p.persistentKeepaliveSeconds}s`,
        humanBytes(p.traffic.bytesIn),
        humanBytes(p.traffic.bytesOut),
        el('code', null, [p.publicKey]),
      ]),
      'No peer is configured.',
    ),
  ];
}

/** An absolute time with how far it is from now: "2026-12-31 (in 29d 4h)" or "(3d ago)". */
function when(timestampSeconds: number, nowSeconds: number): Child {
  const at = new Date(timestampSeconds * 1000);
  return el('span', { class: timestampSeconds >= nowSeconds ? '' : 'expired' }, [
    el('time', { datetime: at.toISOString() }, [at.toISOString().slice(0, 10)]),
    ' ',
    el('span', { class: 'detail' }, [`(${fromNow(timestampSeconds, nowSeconds)})`]),
  ]);
}

export function resultNodes(r: ProbeResult): HTMLElement[] {
  const q = query(r.target, r.module);
  const nodes = [
    outcomeBox(
      r.success,
      r.success ? 'Success' : 'Failure',
      [
        `module ${r.module} (${r.prober})`,
        `target ${r.target}`,
        `took ${r.durationSeconds.toFixed(3)} s`,
        `${r.series} series`,
        `at ${new Date(r.time).toLocaleTimeString()}`,
      ],
      r.success ? '' : (r.reason ?? '') + (r.failureReason ? ` (${r.failureReason})` : ''),
    ),
    el('p', { class: 'links' }, [
      el('a', { href: `logs?id=${Number(r.id)}`, id: 'probe-log-link' }, [`Probe log #${Number(r.id)}`]),
      r.success ? el('a', { href: `sessions.html?${q}` }, ['Sessions page']) : null,
      r.success ? el('a', { href: `sessions?${q}` }, ['Sessions JSON']) : null,
      el('a', { href: `history?${new URLSearchParams({ target: r.target }).toString()}` }, ['Probes of this target']),
    ]),
  ];
  if (r.snapshot) nodes.push(...snapshotNodes(r.snapshot, Date.parse(r.time) + r.durationSeconds * 1000));
  nodes.push(
    el('details', { id: 'raw-metrics' }, [
      el('summary', null, ['Raw metrics']),
      el('p', { class: 'hint' }, ['What ', el('a', { href: `probe?${q}` }, [`probe?${q}`]), ' answered for this probe.']),
      el('pre', { class: 'metrics', tabindex: '0', 'aria-label': 'Metrics text' }, [r.metrics]),
    ]),
  );
  return nodes;
}

/** The one-line summary for the live region, so screen readers hear how the probe went. */
export function resultStatus(r: ProbeResult): string {
  if (!r.success) return `Probe failed: ${r.reason}`;
  const s = r.snapshot;
  return `Probe succeeded in ${r.durationSeconds.toFixed(3)} s: ${s?.tunnels.length ?? 0} tunnel(s), ${s?.sessions.length ?? 0} session(s).`;
}
