import type { MetricSet } from './metric-set.js';
import { TUNNEL_STATES, type GatewaySnapshot, type Session, type Tunnel, type TunnelState } from '../model/snapshot.js';
import { counter, gauge, groupBy, key, max, min, setKnown, sum, type Family } from './family.js';
import { Column, Counts, Rows } from './rows.js';
import { includesLevel, OVERFLOW_USER } from './policy.js';

/**
 * The vendor-neutral `vpn_` family that every prober fills, so one dashboard and
 * one set of alerts cover strongSwan, OpenVPN and PAN-OS alike.
 */
export function addCoreFamilies(set: MetricSet, s: GatewaySnapshot): void {
  const info = gauge(set, 'vpn_info', 'Gateway software and device; the value is always 1.', [
    'vendor',
    'product',
    'version',
    'hostname',
    'os',
    'model',
    'serial',
  ]);
  info.set(
    {
      vendor: s.info.vendor,
      product: s.info.product,
      version: s.info.version ?? '',
      hostname: s.info.hostname ?? '',
      os: s.info.os ?? '',
      model: s.info.model ?? '',
      serial: s.info.serial ?? '',
    },
    1,
  );
  if (s.info.uptimeSeconds !== undefined) {
    gauge(set, 'vpn_uptime_seconds', 'Seconds since the VPN daemon or device started.', []).set({}, s.info.uptimeSeconds);
  }

  const up = gauge(set, 'vpn_tunnel_up', 'Whether a configured tunnel carries traffic (1) or not (0); tunnels configured to be ignored are left out.', [
    'tunnel',
    'kind',
  ]);
  const state = gauge(
    set,
    'vpn_tunnel_state',
    'The state of a configured tunnel: 1 for its current state, 0 for the others (up, partial = control channel only, down, unknown, ignored, standby = on an HA unit that does not carry traffic now).',
    ['tunnel', 'state'],
  );
  const sessions = gauge(set, 'vpn_tunnel_sessions', 'Live SAs or client sessions behind a tunnel (each road warrior counts).', ['tunnel']);
  const childUp = gauge(set, 'vpn_tunnel_child_up', 'Whether a configured child (phase 2) of a tunnel has an installed SA.', ['tunnel', 'child'], {
    level: 'sas',
  });
  const rxBytes = counter(set, 'vpn_tunnel_receive_bytes_total', 'Bytes received through a tunnel, summed over its live SAs or sessions.', ['tunnel']);
  const txBytes = counter(set, 'vpn_tunnel_transmit_bytes_total', 'Bytes sent through a tunnel, summed over its live SAs or sessions.', ['tunnel']);
  const rxPackets = counter(set, 'vpn_tunnel_receive_packets_total', 'Packets received through a tunnel, summed over its live SAs.', ['tunnel']);
  const txPackets = counter(set, 'vpn_tunnel_transmit_packets_total', 'Packets sent through a tunnel, summed over its live SAs.', ['tunnel']);
  // Labels objects refilled for each series rather than made: a hub writes 100,000 of them.
  // Indexed loops: a function run once per probe runs much of its loop unoptimized, where
  // for...of makes an iterator result per item (45,000 for a hub's tunnel states).
  const upLabels = { tunnel: '', kind: '' };
  const stateLabels = { tunnel: '', state: '' };
  const childLabels = { tunnel: '', child: '' };
  const tunnel = { tunnel: '' };
  for (let i = 0; i < s.tunnels.length; i++) {
    const t = s.tunnels[i] as Tunnel;
    tunnel.tunnel = upLabels.tunnel = stateLabels.tunnel = childLabels.tunnel = t.name;
    // Ignored tunnels, and tunnels on standby (an HA unit whose peer carries them), are not down.
    if (t.state !== 'ignored' && t.state !== 'standby') {
      upLabels.kind = t.kind;
      up.set(upLabels, t.state === 'up' ? 1 : 0);
    }
    for (let k = 0; k < TUNNEL_STATES.length; k++) {
      const st = TUNNEL_STATES[k] as TunnelState;
      stateLabels.state = st;
      state.set(stateLabels, t.state === st ? 1 : 0);
    }
    sessions.set(tunnel, t.activeSessions);
    const children = t.children ?? [];
    for (let k = 0; k < children.length; k++) {
      const c = children[k] as NonNullable<Tunnel['children']>[number];
      childLabels.child = c.name;
      if (c.state !== 'ignored') childUp.set(childLabels, c.state === 'up' ? 1 : 0);
    }
    if (t.traffic) {
      rxBytes.set(tunnel, t.traffic.bytesIn);
      txBytes.set(tunnel, t.traffic.bytesOut);
      setKnown(rxPackets, tunnel, t.traffic.packetsIn);
      setKnown(txPackets, tunnel, t.traffic.packetsOut);
    }
  }

  addUserFamilies(set, s.sessions);

  if (s.shunts) {
    // Policies, not tunnels: counted by what they do, so a bypass is never a tunnel that is down.
    const shunts = gauge(set, 'vpn_shunts', 'Configured bypass (pass) and drop policies, which are not tunnels.', ['mode']);
    for (const mode of ['pass', 'drop'] as const) shunts.set({ mode }, s.shunts.filter((x) => x.mode === mode).length);
  }

  if (s.certificates) {
    // Like blackbox_exporter's probe_ssl_earliest_cert_expiry: a time, so alerts compare it with time().
    // Certificates sharing labels (a renewed one loaded beside the old) report the earliest.
    const expiry = gauge(
      set,
      'vpn_certificate_expiry_timestamp_seconds',
      'When a certificate the gateway holds expires (notAfter), as a Unix time; the earliest of certificates sharing labels. private_key: whether the gateway holds its key.',
      ['subject', 'issuer', 'role', 'private_key'],
    );
    for (const group of groupBy(s.certificates, (c) => key(c.subject, c.issuer, c.role, String(c.hasPrivateKey))).values()) {
      const f = group[0];
      if (!f) continue;
      setKnown(
        expiry,
        { subject: f.subject, issuer: f.issuer, role: f.role, private_key: String(f.hasPrivateKey) },
        min(group, (c) => c.notAfterTimestamp),
      );
    }
  }
  if (s.crls) {
    // The newest CRL of an issuer is the one in force, so the latest next update counts.
    const next = gauge(
      set,
      'vpn_crl_next_update_timestamp_seconds',
      'When the CRL of an issuer the gateway holds is due to be replaced (nextUpdate), as a Unix time; the latest when it holds several.',
      ['issuer'],
    );
    for (const [issuer, group] of groupBy(s.crls, (c) => c.issuer))
      setKnown(
        next,
        { issuer },
        max(group, (c) => c.nextUpdateTimestamp),
      );
  }

  if (s.pools.length > 0) {
    const size = gauge(set, 'vpn_pool_size', 'Addresses in a virtual IP pool.', ['pool']);
    const leases = gauge(set, 'vpn_pool_leases', 'Leases of a virtual IP pool by state (online, offline).', ['pool', 'state']);
    for (const p of s.pools) {
      size.set({ pool: p.name }, p.size);
      leases.set({ pool: p.name, state: 'online' }, p.online);
      leases.set({ pool: p.name, state: 'offline' }, p.offline);
    }
  }
}

/**
 * Users, not sessions, are the label: a user with two sessions is one series with count 2,
 * so label sets never collide and cardinality is bounded by the user base. Under
 * `max_users`, the users who have been connected longest keep their series (see rankUsers)
 * and the others, on whatever tunnel, are summed into one `{tunnel="__overflow__",
 * user="__overflow__"}` series per family.
 */
function addUserFamilies(set: MetricSet, sessions: readonly Session[]): void {
  const { detail, userLabels, maxUsers } = set.policy;
  // The families would take and drop every sample: skip the grouping too.
  if (!includesLevel(detail, 'users') || userLabels === 'dropped') return;
  const scope = { level: 'users', user: { tunnel: 'tunnel', user: 'user' } } as const;
  const labelNames = ['tunnel', 'user'] as const;
  const userSessions = gauge(set, 'vpn_user_sessions', 'Live sessions of a user (or remote peer identity) on a tunnel.', labelNames, scope);
  const userRx = counter(set, 'vpn_user_receive_bytes_total', "Bytes received from a user, summed over the user's live sessions.", labelNames, scope);
  const userTx = counter(set, 'vpn_user_transmit_bytes_total', "Bytes sent to a user, summed over the user's live sessions.", labelNames, scope);
  const userRxPackets = counter(
    set,
    'vpn_user_receive_packets_total',
    "Packets received from a user, summed over the user's live sessions.",
    labelNames,
    scope,
  );
  const userTxPackets = counter(set, 'vpn_user_transmit_packets_total', "Packets sent to a user, summed over the user's live sessions.", labelNames, scope);
  const userConnected = gauge(set, 'vpn_user_connected_seconds', "Age of the user's oldest live session.", labelNames, scope);
  const write = (labels: { tunnel: string; user: string }, group: readonly Session[]) => {
    userSessions.set(labels, group.length);
    setKnown(
      userRx,
      labels,
      sum(group, (x) => x.traffic?.bytesIn),
    );
    setKnown(
      userTx,
      labels,
      sum(group, (x) => x.traffic?.bytesOut),
    );
    setKnown(
      userRxPackets,
      labels,
      sum(group, (x) => x.traffic?.packetsIn),
    );
    setKnown(
      userTxPackets,
      labels,
      sum(group, (x) => x.traffic?.packetsOut),
    );
    setKnown(
      userConnected,
      labels,
      max(group, (x) => x.connectedSeconds),
    );
  };

  if (maxUsers === undefined) {
    writeEveryUser(sessions, { userSessions, userRx, userTx, userRxPackets, userTxPackets, userConnected });
    return;
  }
  const groups = [...groupBy(sessions, (x) => key(x.tunnel, x.user)).values()];
  const ranked = rankUsers(groups);
  // A user named __overflow__ on a tunnel named __overflow__ would collide with the sum: it joins it.
  const kept = ranked.filter((g) => userOf(g).user !== OVERFLOW_USER || userOf(g).tunnel !== OVERFLOW_USER).slice(0, maxUsers);
  const keptSet = new Set(kept);
  const rest = ranked.filter((g) => !keptSet.has(g));
  set.keepUsers(new Set(kept.map((g) => key(userOf(g).tunnel, userOf(g).user))));
  for (const group of kept) write(userOf(group), group);
  // One overflow series for the whole probe, not one per tunnel: on a hub with a user per
  // conn, per-tunnel overflow series would be as many as the users they replace.
  if (rest.length > 0) write({ tunnel: OVERFLOW_USER, user: OVERFLOW_USER }, rest.flat());
  gauge(set, 'vpn_users_overflow', 'Users beyond the module\'s max_users, summed into the series with tunnel and user "__overflow__".', [], {
    level: 'users',
  }).set({}, rest.length);
}

type UserFamily = Family<'tunnel' | 'user'>;

/**
 * Without max_users, every user's series as `write` above gives them, in order of first
 * appearance, folded in one pass (see Rows): a concentrator's 10,000 users made 10,000 joined
 * keys and arrays that lived until the families were written.
 */
function writeEveryUser(
  sessions: readonly Session[],
  f: Record<'userSessions' | 'userRx' | 'userTx' | 'userRxPackets' | 'userTxPackets' | 'userConnected', UserFamily>,
): void {
  const n = sessions.length;
  const tunnels = new Rows(n);
  const users = new Rows(n, n);
  const counts = new Counts(n);
  const rx = Column.sum(n);
  const tx = Column.sum(n);
  const rxPackets = Column.sum(n);
  const txPackets = Column.sum(n);
  const connected = Column.max(n);
  for (let i = 0; i < n; i++) {
    const x = sessions[i] as Session;
    const u = users.row(tunnels.row(0, x.tunnel), x.user);
    counts.add(u);
    rx.add(u, x.traffic?.bytesIn);
    tx.add(u, x.traffic?.bytesOut);
    rxPackets.add(u, x.traffic?.packetsIn);
    txPackets.add(u, x.traffic?.packetsOut);
    connected.add(u, x.connectedSeconds);
  }
  const labels = { tunnel: '', user: '' };
  for (let u = 0; u < users.size; u++) {
    labels.tunnel = tunnels.names[users.parents[u] as number] as string;
    labels.user = users.names[u] as string;
    f.userSessions.set(labels, counts.get(u));
    setKnown(f.userRx, labels, rx.get(u));
    setKnown(f.userTx, labels, tx.get(u));
    setKnown(f.userRxPackets, labels, rxPackets.get(u));
    setKnown(f.userTxPackets, labels, txPackets.get(u));
    setKnown(f.userConnected, labels, connected.get(u));
  }
}

function userOf(group: readonly Session[]): { tunnel: string; user: string } {
  const first = group[0] as Session;
  return { tunnel: first.tunnel, user: first.user };
}

/**
 * The order in which users keep their series under max_users: longest connected first (the
 * age of a user's oldest session; unknown ages last), then tunnel and user name by code
 * unit. It is stable from one probe to the next: every age grows alike, so a user keeps its
 * series until it disconnects, and a newcomer goes to the overflow rather than pushing a
 * kept user out. Fewer series start and end, and counters reset less.
 */
export function rankUsers(groups: readonly (readonly Session[])[]): (readonly Session[])[] {
  const ranked = groups.map((g) => ({ g, age: max(g, (x) => x.connectedSeconds) ?? -1, ...userOf(g) }));
  ranked.sort((a, b) => b.age - a.age || cmp(a.tunnel, b.tunnel) || cmp(a.user, b.user));
  return ranked.map((r) => r.g);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
