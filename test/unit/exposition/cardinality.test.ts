import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/config/config.js';
import { parseConfig } from '../../../src/config/modules.js';
import type { ExpositionPolicy } from '../../../src/exposition/policy.js';
import { protectUsers, userHasher } from '../../../src/exposition/privacy.js';
import { buildProbeMetrics } from '../../../src/exposition/probe-metrics.js';
import { sessionRows } from '../../../src/exposition/sessions-json.js';
import type { GatewaySnapshot, StrongswanIkeSa } from '../../../src/model/snapshot.js';
import { PROBERS } from '../../../src/probers.js';
import { addStrongswanFamilies } from '../../../src/vendors/strongswan/metrics.js';
import { buildStrongswanSnapshot } from '../../../src/vendors/strongswan/snapshot.js';
import { addWireguardFamilies } from '../../../src/vendors/wireguard/metrics.js';
import { buildWireguardSnapshot } from '../../../src/vendors/wireguard/snapshot.js';
import { samples } from '../../support/exposition.js';

/*
 * The module's detail level, user labels and max_users, on a strongSwan gateway with
 * site-to-site conns and road warriors, and on a WireGuard interface (per-peer vendor families).
 */

const KEY = 'k3y-for-the-cardinality-tests-0123';

function ikeSa(conn: string, i: number, user: string | undefined, bytesIn: number, age: number): StrongswanIkeSa {
  return {
    conn,
    uniqueId: String(i),
    version: 2,
    state: 'ESTABLISHED',
    remoteHost: `198.51.100.${i}`,
    remotePort: 4500,
    remoteId: user ? `${user}@id.example` : `gw-${i}.example`,
    remoteUserId: user,
    establishedSeconds: age,
    rekeySeconds: 1000 + i,
    virtualIps: user ? [`203.0.113.${i}`] : [],
    children: [
      {
        name: `${conn}-net`,
        uniqueId: `c${i}`,
        state: 'INSTALLED',
        traffic: { bytesIn, bytesOut: bytesIn * 2, packetsIn: i, packetsOut: 2 * i },
        rekeySeconds: 500 + i,
        lifeSeconds: 900 + i,
        installSeconds: age,
        localTs: ['192.0.2.0/24'],
        remoteTs: ['198.51.100.0/24'],
      },
    ],
  };
}

/** Two sites and 12 road warriors on two conns; "user3" has two SAs. Ages: user1 oldest. */
function strongswan(): GatewaySnapshot {
  const ikeSas = [ikeSa('site-a', 100, undefined, 7000, 5000), ikeSa('site-b', 101, undefined, 8000, 4000)];
  for (let i = 1; i <= 12; i++) ikeSas.push(ikeSa(i % 2 ? 'rw' : 'rw2', i, `user${i}`, 100 * i, 3000 - 10 * i));
  ikeSas.push(ikeSa('rw', 50, 'user3', 1, 10));
  return buildStrongswanSnapshot({
    info: { product: 'charon', version: '5.9.8', uptimeSeconds: 42 },
    conns: [
      { name: 'site-a', kind: 'site-to-site', ignored: false, children: ['site-a-net'] },
      { name: 'site-b', kind: 'site-to-site', ignored: false, children: ['site-b-net'] },
      { name: 'site-down', kind: 'site-to-site', ignored: false, children: ['site-down-net'] },
      { name: 'rw', kind: 'remote-access', ignored: false, children: ['rw-net'] },
      { name: 'rw2', kind: 'remote-access', ignored: false, children: ['rw2-net'] },
    ],
    ikeSas,
    pools: [{ name: 'rw-pool', base: '203.0.113.0', size: 254, online: 12, offline: 0 }],
    stats: { ikeSasTotal: ikeSas.length, ikeSasHalfOpen: 0 },
  });
}

const A = 'Gs+urE9i6yncwNKW9hf+EcNrW2Hhoae5Bt1EB0a3jXQ=';
const B = '8NY/I2RMIstg4iNLhgoM7f0KjpEFuQtL05Hz+nJ6jFg=';
const NOW = 1796180100;
function wireguard(): GatewaySnapshot {
  return buildWireguardSnapshot({
    interfaces: [
      {
        name: 'wg0',
        listenPort: 51820,
        peers: [
          { publicKey: A, endpoint: '192.0.2.11:40001', allowedIps: ['198.51.100.2/32'], latestHandshake: NOW - 100, rxBytes: 10, txBytes: 20 },
          { publicKey: B, endpoint: '192.0.2.12:40002', allowedIps: ['198.51.100.3/32'], latestHandshake: NOW - 50, rxBytes: 30, txBytes: 40 },
        ],
      },
    ],
    configNames: new Map([
      [
        'wg0',
        new Map([
          [A, 'wg-alice'],
          [B, 'wg-bob'],
        ]),
      ],
    ]),
    moduleNames: {},
    nowSeconds: NOW,
    connectedWithinSeconds: 180,
  });
}

const policy = (p: Partial<ExpositionPolicy>): ExpositionPolicy => ({ detail: 'sas', userLabels: 'plain', ...p });

function render(snapshot: GatewaySnapshot, p: ExpositionPolicy, vendor = addStrongswanFamilies) {
  const protectedSnapshot = protectUsers(snapshot, p.userLabels, p.hashUser);
  const set = buildProbeMetrics({ success: true, durationSeconds: 0.1, snapshot: protectedSnapshot }, vendor, p);
  const text = set.render();
  return { text, set, families: familyNames(text), snapshot: protectedSnapshot };
}

const familyNames = (text: string): Set<string> => new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1] as string));
const sampleLines = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('detail levels', () => {
  const full = render(strongswan(), policy({}));
  const tunnels = render(strongswan(), policy({ detail: 'tunnels' }));
  const users = render(strongswan(), policy({ detail: 'users' }));

  it('sas is the default and the complete output: byte for byte what a probe without a policy writes', () => {
    const unset = buildProbeMetrics({ success: true, durationSeconds: 0.1, snapshot: strongswan() }, addStrongswanFamilies).render();
    assert.equal(full.text, unset);
  });

  it('tunnels drops every user and SA family, and keeps the gateway, tunnel and pool ones', () => {
    for (const gone of [
      'vpn_user_sessions',
      'vpn_user_receive_bytes_total',
      'vpn_user_connected_seconds',
      'vpn_tunnel_child_up',
      'strongswan_ike_sas_by_conn',
      'strongswan_ike_sa_established_seconds',
      'strongswan_child_sas',
      'strongswan_child_sa_receive_bytes_total',
    ]) {
      assert.ok(full.families.has(gone), `${gone} is in the full output`);
      assert.ok(!tunnels.families.has(gone), `${gone} is left out at tunnels`);
    }
    for (const kept of [
      'vpn_info',
      'vpn_tunnel_up',
      'vpn_tunnel_state',
      'vpn_tunnel_sessions',
      'vpn_tunnel_receive_bytes_total',
      'vpn_pool_size',
      'strongswan_ike_sas',
    ]) {
      assert.ok(tunnels.families.has(kept), `${kept} stays at tunnels`);
    }
  });

  it('users adds the user families, not the SA ones', () => {
    assert.deepEqual([...users.families].filter((f) => !tunnels.families.has(f)).sort(), [
      'vpn_user_connected_seconds',
      'vpn_user_receive_bytes_total',
      'vpn_user_receive_packets_total',
      'vpn_user_sessions',
      'vpn_user_transmit_bytes_total',
      'vpn_user_transmit_packets_total',
    ]);
    assert.ok(!users.families.has('vpn_tunnel_child_up'));
    assert.ok(!users.families.has('strongswan_child_sas'));
  });

  it('every level is a subset of the next, sample for sample: families vanish, no value changes', () => {
    const fullLines = new Set(sampleLines(full.text));
    const userLines = new Set(sampleLines(users.text));
    for (const l of sampleLines(tunnels.text).filter((l) => !l.startsWith('probe_duration'))) assert.ok(userLines.has(l), l);
    for (const l of userLines) if (!l.startsWith('probe_duration')) assert.ok(fullLines.has(l), l);
  });

  it('the core stays coherent at every level: every configured tunnel has vpn_tunnel_up, and sessions add up', () => {
    for (const r of [tunnels, users, full]) {
      assert.deepEqual(
        samples(r.text, 'vpn_tunnel_up').map((s) => [s.labels.tunnel, s.value]),
        [
          ['site-a', 1],
          ['site-b', 1],
          ['site-down', 0],
          ['rw', 1],
          ['rw2', 1],
        ],
      );
      const total = samples(r.text, 'vpn_tunnel_sessions').reduce((a, s) => a + s.value, 0);
      assert.equal(total, 15);
    }
  });

  it('the WireGuard peer families are user families: gone at tunnels, there at users', () => {
    const wgTunnels = render(wireguard(), policy({ detail: 'tunnels' }), addWireguardFamilies);
    const wgUsers = render(wireguard(), policy({ detail: 'users' }), addWireguardFamilies);
    assert.ok(wgTunnels.families.has('wireguard_interface_peers'));
    assert.ok(!wgTunnels.families.has('wireguard_peer_receive_bytes_total'));
    assert.equal(samples(wgUsers.text, 'wireguard_peer_receive_bytes_total').length, 2);
  });

  it('the series count is the number of sample lines written, at every level', () => {
    for (const r of [tunnels, users, full]) assert.equal(r.set.seriesCount, sampleLines(r.text).length);
    assert.ok(tunnels.set.seriesCount < users.set.seriesCount && users.set.seriesCount < full.set.seriesCount);
  });
});

describe('user labels', () => {
  it('hashed: a keyed HMAC-SHA256, 16 hex digits, the same in two exporters with one key and different with another', () => {
    const one = userHasher(KEY);
    const two = userHasher(KEY);
    const other = userHasher(`${KEY}-other`);
    assert.match(one('alice'), /^[0-9a-f]{16}$/);
    assert.equal(one('alice'), two('alice'));
    assert.notEqual(one('alice'), other('alice'));
    assert.notEqual(one('alice'), one('bob'));
    // The same through the configuration: two loads of one file, as after a restart.
    const yaml = (key: string) => `modules:\n  v:\n    prober: strongswan-vici-tcp\n    user_labels: hashed\n    user_hash_key: ${key}\n`;
    const first = parseConfig('m.yaml', yaml(KEY), PROBERS).modules.get('v')?.exposition.hashUser;
    const again = parseConfig('m.yaml', yaml(KEY), PROBERS).modules.get('v')?.exposition.hashUser;
    const rekeyed = parseConfig('m.yaml', yaml(`${KEY}-other`), PROBERS).modules.get('v')?.exposition.hashUser;
    assert.ok(first && again && rekeyed);
    assert.equal(first('user7'), again('user7'));
    assert.equal(first('user7'), one('user7'));
    assert.notEqual(first('user7'), rekeyed('user7'));
  });

  it('hashed: metrics, snapshot and session rows name no user, and user series line up with the plain ones', () => {
    const hashUser = userHasher(KEY);
    const plain = render(strongswan(), policy({}));
    const hashed = render(strongswan(), policy({ userLabels: 'hashed', hashUser }));
    const rows = sessionRows(hashed.snapshot, 'gw', Date.now());
    const everything = JSON.stringify(hashed.snapshot) + hashed.text + JSON.stringify(rows);
    for (let i = 1; i <= 12; i++) assert.doesNotMatch(everything, new RegExp(`user${i}\\b`));
    assert.doesNotMatch(everything, /198\.51\.100\.\d+"?,"remotePort|"remoteHost"/, 'no public address of a user');
    const bytes = (text: string) => new Map(samples(text, 'vpn_user_receive_bytes_total').map((s) => [`${s.labels.tunnel}/${s.labels.user}`, s.value]));
    const plainBytes = bytes(plain.text);
    const hashedBytes = bytes(hashed.text);
    assert.equal(hashedBytes.size, plainBytes.size);
    for (const [k, v] of plainBytes) {
      const [tunnel, user] = k.split('/') as [string, string];
      assert.equal(hashedBytes.get(`${tunnel}/${hashUser(user)}`), v, k);
    }
    assert.equal(rows.find((r) => r.user === hashUser('user5'))?.remoteid, hashUser('user5@id.example'));
  });

  it('dropped: no per-user series (core or WireGuard) and no name anywhere; tunnels untouched', () => {
    const dropped = render(strongswan(), policy({ userLabels: 'dropped' }));
    assert.ok(![...dropped.families].some((f) => f.startsWith('vpn_user')));
    assert.equal(
      samples(dropped.text, 'vpn_tunnel_sessions').reduce((a, s) => a + s.value, 0),
      15,
    );
    assert.doesNotMatch(JSON.stringify(dropped.snapshot) + dropped.text, /user\d/);
    const wg = render(wireguard(), policy({ userLabels: 'dropped' }), addWireguardFamilies);
    assert.ok(![...wg.families].some((f) => f.startsWith('wireguard_peer_')));
    assert.doesNotMatch(JSON.stringify(wg.snapshot) + wg.text, /wg-alice|wg-bob|192\.0\.2\.1[12]|Gs\+urE9/);
  });
});

describe('max_users', () => {
  const all = render(strongswan(), policy({}));
  const capped = render(strongswan(), policy({ maxUsers: 5 }));
  const byUser = (text: string, name: string) => new Map(samples(text, name).map((s) => [`${s.labels.tunnel}/${s.labels.user}`, s.value]));

  it('keeps the users connected longest, sums the rest into one __overflow__ series, and counts them', () => {
    const kept = samples(capped.text, 'vpn_user_sessions').filter((s) => s.labels.user !== '__overflow__');
    // Ages: the site peers (5000, 4000 s) first, then user1 (2990), user2 (2980), user3 (2970).
    assert.deepEqual(kept.map((s) => s.labels.user).sort(), ['gw-100.example', 'gw-101.example', 'user1', 'user2', 'user3'].sort());
    const allUsers = samples(all.text, 'vpn_user_sessions').length;
    assert.equal(samples(capped.text, 'vpn_users_overflow')[0]?.value, allUsers - 5);
    assert.deepEqual(
      samples(capped.text, 'vpn_user_sessions')
        .filter((s) => s.labels.user === '__overflow__')
        .map((s) => s.labels.tunnel),
      ['__overflow__'],
    );
    // Bounded by max_users whatever the number of tunnels: the kept users and one overflow series.
    assert.equal(samples(capped.text, 'vpn_user_sessions').length, 6);
  });

  it('the overflow series of each family equal the totals of the users they replace', () => {
    for (const family of [
      'vpn_user_sessions',
      'vpn_user_receive_bytes_total',
      'vpn_user_transmit_bytes_total',
      'vpn_user_receive_packets_total',
      'vpn_user_transmit_packets_total',
    ]) {
      const before = byUser(all.text, family);
      const after = byUser(capped.text, family);
      let dropped = 0;
      for (const [k, v] of before) if (!after.has(k)) dropped += v;
      assert.ok(dropped > 0);
      assert.equal(after.get('__overflow__/__overflow__'), dropped, family);
      const sumOf = (m: Map<string, number>) => [...m.values()].reduce((a, v) => a + v, 0);
      assert.equal(sumOf(after), sumOf(before), `${family}: nothing lost`);
    }
    // An age is not summed: the overflow's is its oldest session's.
    assert.equal(byUser(capped.text, 'vpn_user_connected_seconds').get('__overflow__/__overflow__'), 3000 - 40);
  });

  it('is stable: 15 s later, with a newcomer, the same users keep their series and the newcomer is in the overflow', () => {
    const rwSas = (strongswan().strongswan?.ikeSas ?? []).filter((sa) => sa.conn === 'rw');
    const at = (sas: StrongswanIkeSa[]) =>
      buildStrongswanSnapshot({
        info: { product: 'charon' },
        conns: [{ name: 'rw', kind: 'remote-access', ignored: false, children: ['rw-net'] }],
        ikeSas: sas,
        pools: [],
      });
    const first = render(at(rwSas), policy({ maxUsers: 3 }));
    const later = rwSas.map((sa) => ({ ...sa, establishedSeconds: (sa.establishedSeconds ?? 0) + 15 }));
    // A name that sorts first, and more traffic than anyone: neither pushes a kept user out.
    const second = render(at([...later, ikeSa('rw', 60, 'aaa-newcomer', 1e9, 1)]), policy({ maxUsers: 3 }));
    const keptUsers = (text: string) =>
      samples(text, 'vpn_user_sessions')
        .map((x) => x.labels.user)
        .filter((u) => u !== '__overflow__');
    assert.deepEqual(keptUsers(first.text), ['user1', 'user3', 'user5']);
    assert.deepEqual(keptUsers(second.text), keptUsers(first.text));
    assert.equal((samples(second.text, 'vpn_users_overflow')[0]?.value ?? 0) - (samples(first.text, 'vpn_users_overflow')[0]?.value ?? 0), 1);
  });

  it('reaches the per-peer vendor families: a peer beyond the cap has no wireguard_peer series', () => {
    const wg = render(wireguard(), policy({ maxUsers: 1 }), addWireguardFamilies);
    assert.deepEqual(
      samples(wg.text, 'wireguard_peer_receive_bytes_total').map((s) => s.labels.peer),
      ['wg-alice'],
    );
    assert.deepEqual(byUser(wg.text, 'vpn_user_receive_bytes_total').get('__overflow__/__overflow__'), 30);
    assert.equal(samples(wg.text, 'vpn_users_overflow')[0]?.value, 1);
  });

  it('a user really named __overflow__ is summed into the overflow, never a second series with the same labels', () => {
    const s = strongswan();
    const odd = { ...s, sessions: s.sessions.map((x, i) => (i === 2 ? { ...x, user: '__overflow__' } : x)) };
    const r = render(odd, policy({ maxUsers: 1 }));
    const lines = sampleLines(r.text);
    assert.equal(new Set(lines.map((l) => l.replace(/ \S+$/, ''))).size, lines.length);
  });
});

describe('configuration', () => {
  const rejects = (extra: string, expected: RegExp) =>
    assert.throws(
      () => parseConfig('m.yaml', `modules:\n  v:\n    prober: strongswan-vici-tcp\n${extra}`, PROBERS),
      (err: unknown) => err instanceof ConfigError && expected.test(err.message),
    );

  it('defaults to the full output with plain names and no cap', () => {
    const m = parseConfig('m.yaml', 'modules:\n  v:\n    prober: strongswan-vici-tcp\n', PROBERS).modules.get('v');
    assert.deepEqual({ ...m?.exposition }, { detail: 'sas', userLabels: 'plain', maxUsers: undefined, hashUser: undefined });
  });

  it('refuses unknown levels and modes, a cap below 1, a hash without a key, a key without hashing, a short key', () => {
    rejects('    detail: everything\n', /modules\.v\.detail: .*tunnels.*users.*sas/);
    rejects('    user_labels: anonymised\n', /modules\.v\.user_labels/);
    rejects('    max_users: 0\n', /modules\.v\.max_users/);
    rejects('    max_users: 2.5\n', /modules\.v\.max_users/);
    rejects('    user_labels: hashed\n', /modules\.v\.user_hash_key: user_labels: hashed needs user_hash_key/);
    rejects(`    user_hash_key: ${KEY}\n`, /modules\.v\.user_hash_key: user_hash_key is only used with user_labels: hashed/);
    rejects('    user_labels: hashed\n    user_hash_key: short\n', /at least 16 characters/);
    rejects('    user_labels: hashed\n    user_hash_key: {env: VPNX_NOT_SET_ANYWHERE}\n', /VPNX_NOT_SET_ANYWHERE is not set/);
  });

  it('never shows the key: the module as displayed, the policy and errors print no part of it', () => {
    const m = parseConfig(
      'm.yaml',
      `modules:\n  v:\n    prober: strongswan-vici-tcp\n    user_labels: hashed\n    user_hash_key: ${KEY}\n`,
      PROBERS,
    ).modules.get('v');
    assert.ok(m);
    const shown = JSON.stringify(m.display) + inspect(m, { depth: 10 }) + JSON.stringify(m.exposition);
    assert.doesNotMatch(shown, new RegExp(KEY.slice(0, 12)));
    assert.match(JSON.stringify(m.display), /"user_hash_key":"<secret>"/);
  });
});
