// The VICI lab's scenario (support/strongswan-lab.ts) and how a probe of its gateway is checked against
// swanctl on the same daemon: stable facts must match exactly, moving counters and timers must lie within
// the window between a swanctl reading right before and one right after the probe. Shared by every
// prober that reads this gateway through VICI, whatever carries it.
import assert from 'node:assert/strict';
import { sampleValue } from '../../support/exporter.js';
import { SHUNTS } from './strongswan-config.js';
import {
  childSas,
  labelValues,
  matching,
  maxOf,
  minOf,
  readSwanctl,
  samples,
  stableFacts,
  sumOf,
  userOf,
  type Swanctl,
  type SwanctlChildSa,
  type SwanctlConn,
  type SwanctlView,
} from './vici-compare.js';

/** The lab's scenario; the tests also check that swanctl agrees, so a lab drifting from it is noticed. */
export const SCENARIO = {
  'site-a': { kind: 'site-to-site', state: 'up', sessions: 1, children: ['net-a'] },
  'site-b': { kind: 'site-to-site', state: 'down', sessions: 0, children: ['net-b'] },
  'rw-eap': { kind: 'remote-access', state: 'up', sessions: 2, children: ['rw-eap-net'] },
  'rw-xauth': { kind: 'remote-access', state: 'up', sessions: 1, children: ['rw-xauth-net'] },
} as const;
export const USERS = [
  { tunnel: 'rw-eap', user: 'alice', pool: 'rw-pool' },
  { tunnel: 'rw-eap', user: 'bob', pool: 'rw-pool' },
  { tunnel: 'rw-xauth', user: 'carol', pool: 'rw-xauth-pool' },
] as const;
export const TUNNEL_STATES = ['up', 'partial', 'down', 'unknown', 'ignored'] as const;

export interface Measurement {
  before: SwanctlView;
  after: SwanctlView;
  text: string;
  /** Wall time of the HTTP request. */
  seconds: number;
}

/**
 * swanctl, probe, swanctl. A reading whose stable facts changed between the two swanctl rounds (an SA
 * came or went) says nothing about the exporter, so it is repeated, a few times at most.
 */
export async function measure(swanctl: Swanctl, probe: () => Promise<Response>): Promise<Measurement> {
  let lastDiff = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = await readSwanctl(swanctl);
    const t0 = performance.now();
    const res = await probe();
    const text = await res.text();
    const seconds = (performance.now() - t0) / 1000;
    const after = await readSwanctl(swanctl);
    assert.equal(res.status, 200, text);
    assert.equal(sampleValue(text, 'probe_success'), 1, text);
    if (stableFacts(before) === stableFacts(after)) return { before, after, text, seconds };
    lastDiff = `--- before ---\n${before.text}\n--- after ---\n${after.text}`;
  }
  throw new Error(`the gateway kept changing between two swanctl readings:\n${lastDiff}`);
}

export function only(text: string, name: string, labels: Record<string, string>): number {
  const found = matching(text, name, labels);
  assert.equal(found.length, 1, `exactly one ${name}${JSON.stringify(labels)} in:\n${text}`);
  return found[0]?.value ?? NaN;
}

/** Asserts lo <= value <= hi for the two readings in either order (counters grow, timers shrink). */
export function assertWithin(value: number, a: number | undefined, b: number | undefined, what: string, slack = 0): void {
  assert.ok(a !== undefined && b !== undefined, `swanctl reports no ${what}`);
  const lo = Math.min(a, b) - slack;
  const hi = Math.max(a, b) + slack;
  assert.ok(value >= lo && value <= hi, `${what}: exporter says ${value}, swanctl ${a} before and ${b} after`);
}

function sortedEqual(actual: string[], expected: string[], what: string): void {
  assert.deepEqual([...actual].sort(), [...expected].sort(), what);
}

type Counter = (c: SwanctlChildSa) => number;
const TUNNEL_COUNTERS: [string, Counter][] = [
  ['vpn_tunnel_receive_bytes_total', (c) => c.bytesIn],
  ['vpn_tunnel_transmit_bytes_total', (c) => c.bytesOut],
  ['vpn_tunnel_receive_packets_total', (c) => c.packetsIn],
  ['vpn_tunnel_transmit_packets_total', (c) => c.packetsOut],
];

// --- comparisons, shared by the first reading and the one after a gateway restart ---------------------

export function assertDaemonAndProbe(m: Measurement): void {
  const { text, before, after } = m;
  assert.equal(sampleValue(text, 'probe_success'), 1, text);
  const info = samples(text, 'vpn_info');
  assert.equal(info.length, 1, text);
  assert.equal(info[0]?.value, 1);
  assert.deepEqual(
    { vendor: info[0]?.labels.vendor, product: info[0]?.labels.product, version: info[0]?.labels.version, os: info[0]?.labels.os },
    { vendor: 'strongswan', ...before.daemon },
    'vpn_info against `swanctl --version --daemon`',
  );
  assert.equal(sampleValue(text, 'strongswan_ike_sas'), before.stats.ikeSasTotal, 'strongswan_ike_sas against --stats');
  assert.equal(sampleValue(text, 'strongswan_ike_sas_half_open'), before.stats.ikeSasHalfOpen);
  assert.equal(before.stats.ikeSasTotal, before.sas.length, '--stats and --list-sas agree on the IKE_SA count');
  // charon truncates "running"; the exporter derives the uptime from the second-truncated start time.
  assertWithin(sampleValue(text, 'vpn_uptime_seconds') ?? NaN, before.stats.running.min, after.stats.running.max, 'uptime', 1);
  const wall = m.seconds;
  const probed = sampleValue(text, 'probe_duration_seconds') ?? NaN;
  assert.ok(probed > 0 && probed <= wall, `probe_duration_seconds ${probed}, request took ${wall}s`);
  assert.ok(wall < 2, `the probe took ${wall}s`);
}

const isShunt = (c: SwanctlConn) => Object.values(c.modes).every((m) => m === 'PASS' || m === 'DROP');

export function assertTunnels({ text, before, after }: Measurement): void {
  const tunnelConns = before.conns.filter((c) => !isShunt(c));
  const conns = tunnelConns.map((c) => c.name);
  sortedEqual(conns, Object.keys(SCENARIO), "swanctl --list-conns has the scenario's conns");
  sortedEqual(labelValues(text, 'vpn_tunnel_state', 'tunnel'), conns, 'a vpn_tunnel_state for every conn, and no other');
  sortedEqual(labelValues(text, 'vpn_tunnel_up', 'tunnel'), conns, 'a vpn_tunnel_up for every conn');
  for (const conn of tunnelConns) {
    const scenario = SCENARIO[conn.name as keyof typeof SCENARIO];
    const sas = before.sas.filter((sa) => sa.conn === conn.name);
    const installed = sas.some((sa) => sa.children.some((c) => c.state === 'INSTALLED'));
    assert.ok(installed || sas.length === 0, `${conn.name} is neither up nor down in swanctl:\n${before.text}`);
    const state = installed ? 'up' : 'down';
    assert.equal(state, scenario.state, `swanctl has ${conn.name} ${state}`);
    assert.equal(sas.length, scenario.sessions, `swanctl lists ${sas.length} IKE_SAs for ${conn.name}`);

    for (const st of TUNNEL_STATES) {
      assert.equal(only(text, 'vpn_tunnel_state', { tunnel: conn.name, state: st }), st === state ? 1 : 0, `${conn.name} ${st}`);
    }
    const up = matching(text, 'vpn_tunnel_up', { tunnel: conn.name });
    assert.deepEqual(
      up.map((s) => [s.labels.kind, s.value]),
      [[scenario.kind, state === 'up' ? 1 : 0]],
      `vpn_tunnel_up of ${conn.name}`,
    );
    assert.equal(only(text, 'vpn_tunnel_sessions', { tunnel: conn.name }), sas.length, `vpn_tunnel_sessions of ${conn.name}`);

    sortedEqual(conn.children, [...scenario.children], `swanctl's children of ${conn.name}`);
    sortedEqual(labelValues(text, 'vpn_tunnel_child_up', 'child', { tunnel: conn.name }), conn.children, `children of ${conn.name}`);
    for (const child of conn.children) {
      const childUp = childSas(before, conn.name, child).some((c) => c.state === 'INSTALLED') ? 1 : 0;
      assert.equal(only(text, 'vpn_tunnel_child_up', { tunnel: conn.name, child }), childUp, `${conn.name}/${child}`);
    }

    const traffic = (v: SwanctlView, f: Counter) =>
      sumOf(
        v.sas.filter((sa) => sa.conn === conn.name).flatMap((sa) => sa.children),
        f,
      );
    for (const [series, f] of TUNNEL_COUNTERS) {
      assertWithin(only(text, series, { tunnel: conn.name }), traffic(before, f), traffic(after, f), `${series} ${conn.name}`);
    }
  }
}

/** The PASS and DROP conns swanctl lists are shunts: counted by mode, named, never a tunnel. */
export function assertShunts({ text, before }: Measurement): void {
  const shunts = before.conns.filter(isShunt);
  assert.deepEqual(
    shunts.map((c) => [c.name, c.modes]).sort(),
    [
      [SHUNTS.pass.conn, { [SHUNTS.pass.child]: 'PASS' }],
      [SHUNTS.drop.conn, { [SHUNTS.drop.child]: 'DROP' }],
    ].sort(),
    `swanctl --list-conns shows the lab's bypass and drop conns:\n${before.text}`,
  );
  for (const c of shunts) {
    for (const family of ['vpn_tunnel_up', 'vpn_tunnel_state', 'vpn_tunnel_sessions', 'vpn_tunnel_child_up']) {
      assert.deepEqual(matching(text, family, { tunnel: c.name }), [], `${c.name} is no tunnel in ${family}`);
    }
  }
  assert.equal(only(text, 'vpn_shunts', { mode: 'pass' }), 1);
  assert.equal(only(text, 'vpn_shunts', { mode: 'drop' }), 1);
  assert.equal(only(text, 'strongswan_shunt_info', { conn: SHUNTS.pass.conn, child: SHUNTS.pass.child, mode: 'pass' }), 1);
  assert.equal(only(text, 'strongswan_shunt_info', { conn: SHUNTS.drop.conn, child: SHUNTS.drop.child, mode: 'drop' }), 1);
}

export function assertUsersAndPools({ text, before, after }: Measurement): void {
  // vpn_user_sessions: one series per (tunnel, user), the count of that user's IKE_SAs.
  const expected = new Map<string, number>();
  for (const sa of before.sas) {
    const k = JSON.stringify([sa.conn, userOf(sa)]);
    expected.set(k, (expected.get(k) ?? 0) + 1);
  }
  const exported = new Map(samples(text, 'vpn_user_sessions').map((s) => [JSON.stringify([s.labels.tunnel, s.labels.user]), s.value]));
  assert.deepEqual(new Map([...exported].sort()), new Map([...expected].sort()), 'vpn_user_sessions against --list-sas');

  for (const { tunnel, user, pool } of USERS) {
    assert.equal(only(text, 'vpn_user_sessions', { tunnel, user }), 1, `${tunnel}/${user}`);
    const mine = (v: SwanctlView) => v.sas.filter((sa) => sa.conn === tunnel && sa.userId === user);
    const [sa] = mine(before);
    assert.ok(sa && sa.virtualIps.length > 0, `swanctl lists ${user} on ${tunnel} with a virtual IP:\n${before.text}`);
    const leases = before.pools.find((p) => p.name === pool)?.leases ?? [];
    for (const vip of sa.virtualIps) {
      assert.ok(
        leases.some((l) => l.address === vip && l.identity === user && l.status === 'online'),
        `${user}'s virtual IP ${vip} is an online lease of ${pool}:\n${before.text}`,
      );
    }
    const bytes = (v: SwanctlView, f: Counter) =>
      sumOf(
        mine(v).flatMap((s) => s.children),
        f,
      );
    assertWithin(
      only(text, 'vpn_user_receive_bytes_total', { tunnel, user }),
      bytes(before, (c) => c.bytesIn),
      bytes(after, (c) => c.bytesIn),
      `${user} rx bytes`,
    );
    assertWithin(
      only(text, 'vpn_user_transmit_bytes_total', { tunnel, user }),
      bytes(before, (c) => c.bytesOut),
      bytes(after, (c) => c.bytesOut),
      `${user} tx bytes`,
    );
    assertWithin(
      only(text, 'vpn_user_receive_packets_total', { tunnel, user }),
      bytes(before, (c) => c.packetsIn),
      bytes(after, (c) => c.packetsIn),
      `${user} rx packets`,
    );
    assertWithin(
      only(text, 'vpn_user_transmit_packets_total', { tunnel, user }),
      bytes(before, (c) => c.packetsOut),
      bytes(after, (c) => c.packetsOut),
      `${user} tx packets`,
    );
    assertWithin(
      only(text, 'vpn_user_connected_seconds', { tunnel, user }),
      maxOf(mine(before), (s) => s.establishedSeconds),
      maxOf(mine(after), (s) => s.establishedSeconds),
      `${user} connected seconds`,
    );
  }

  sortedEqual(
    labelValues(text, 'vpn_pool_size', 'pool'),
    before.pools.map((p) => p.name),
    'a vpn_pool_size for every pool',
  );
  sortedEqual(
    before.pools.map((p) => p.name),
    ['rw-pool', 'rw-xauth-pool'],
    "swanctl's pools",
  );
  for (const p of before.pools) {
    assert.equal(p.online, p.leases.filter((l) => l.status === 'online').length, `swanctl's online count of ${p.name} matches its leases`);
    assert.equal(only(text, 'vpn_pool_size', { pool: p.name }), p.size, `vpn_pool_size ${p.name}`);
    assert.equal(only(text, 'vpn_pool_leases', { pool: p.name, state: 'online' }), p.online, `online leases of ${p.name}`);
    assert.equal(only(text, 'vpn_pool_leases', { pool: p.name, state: 'offline' }), p.offline, `offline leases of ${p.name}`);
  }
  assert.equal(only(text, 'vpn_pool_leases', { pool: 'rw-pool', state: 'online' }), 2);
  assert.equal(only(text, 'vpn_pool_leases', { pool: 'rw-xauth-pool', state: 'online' }), 1);
}

export function assertStrongswanDetail({ text, before, after }: Measurement): void {
  // IKE_SAs and CHILD_SAs by their labels, counted from --list-sas.
  const count = (keys: string[][]) => {
    const m = new Map<string, number>();
    for (const k of keys.map((x) => JSON.stringify(x))) m.set(k, (m.get(k) ?? 0) + 1);
    return new Map([...m].sort());
  };
  const exportedCount = (name: string, labels: string[]) =>
    new Map(
      samples(text, name)
        .map((s) => [JSON.stringify(labels.map((l) => s.labels[l])), s.value] as const)
        .sort(),
    );
  assert.deepEqual(
    exportedCount('strongswan_ike_sas_by_conn', ['conn', 'version', 'state']),
    count(before.sas.map((sa) => [sa.conn, String(sa.version), sa.state])),
    'strongswan_ike_sas_by_conn against --list-sas',
  );
  assert.deepEqual(
    exportedCount('strongswan_child_sas', ['conn', 'child', 'state']),
    count(before.sas.flatMap((sa) => sa.children.map((c) => [sa.conn, c.name, c.state]))),
    'strongswan_child_sas against --list-sas',
  );

  const live = [...new Set(before.sas.flatMap((sa) => sa.children.map((c) => JSON.stringify([sa.conn, c.name]))))];
  assert.ok(live.includes(JSON.stringify(['site-a', 'net-a'])), `net-a of site-a is live:\n${before.text}`);
  for (const [conn, child] of live.map((k) => JSON.parse(k) as [string, string])) {
    const labels = { conn, child };
    const b = childSas(before, conn, child);
    const a = childSas(after, conn, child);
    const within = (series: string, pick: (x: typeof b) => number | undefined) =>
      assertWithin(only(text, series, labels), pick(b), pick(a), `${series}{conn="${conn}",child="${child}"}`);
    within('strongswan_child_sa_receive_bytes_total', (x) => sumOf(x, (c) => c.bytesIn));
    within('strongswan_child_sa_transmit_bytes_total', (x) => sumOf(x, (c) => c.bytesOut));
    within('strongswan_child_sa_receive_packets_total', (x) => sumOf(x, (c) => c.packetsIn));
    within('strongswan_child_sa_transmit_packets_total', (x) => sumOf(x, (c) => c.packetsOut));
    within('strongswan_child_sa_rekey_seconds', (x) => minOf(x, (c) => c.rekeySeconds));
    within('strongswan_child_sa_lifetime_seconds', (x) => minOf(x, (c) => c.lifeSeconds));
    within('strongswan_child_sa_installed_seconds', (x) => maxOf(x, (c) => c.installSeconds));
  }
  // site-a carried traffic both ways when the lab came up.
  assert.ok(only(text, 'strongswan_child_sa_receive_packets_total', { conn: 'site-a', child: 'net-a' }) > 0);
  assert.ok(only(text, 'strongswan_child_sa_transmit_packets_total', { conn: 'site-a', child: 'net-a' }) > 0);

  for (const conn of new Set(before.sas.map((sa) => sa.conn))) {
    const mine = (v: SwanctlView) => v.sas.filter((sa) => sa.conn === conn);
    assertWithin(
      only(text, 'strongswan_ike_sa_established_seconds', { conn }),
      maxOf(mine(before), (sa) => sa.establishedSeconds),
      maxOf(mine(after), (sa) => sa.establishedSeconds),
      `IKE_SA age of ${conn}`,
    );
    assertWithin(
      only(text, 'strongswan_ike_sa_rekey_seconds', { conn }),
      minOf(mine(before), (sa) => sa.rekeySeconds),
      minOf(mine(after), (sa) => sa.rekeySeconds),
      `IKE_SA rekey of ${conn}`,
    );
  }
}
