import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import fc from 'fast-check';
import { MetricSet } from '../../../src/exposition/metric-set.js';
import { buildProbeMetrics } from '../../../src/exposition/probe-metrics.js';
import { addStrongswanFamilies } from '../../../src/vendors/strongswan/metrics.js';
import { buildStrongswanSnapshot } from '../../../src/vendors/strongswan/snapshot.js';
import type { StrongswanIkeSa } from '../../../src/model/snapshot.js';

function ikeSa(conn: string, id: string, user: string | undefined, childState: string, bytesIn: number): StrongswanIkeSa {
  return {
    conn,
    uniqueId: id,
    version: 2,
    state: 'ESTABLISHED',
    remoteHost: `198.51.100.${id}`,
    remotePort: 4500,
    remoteId: `peer-${id}`,
    remoteUserId: user,
    establishedSeconds: 100 * Number(id),
    rekeySeconds: 1000 + Number(id),
    virtualIps: user ? [`203.0.113.${id}`] : [],
    children: [
      {
        name: conn === 'rw' ? 'rw-net' : 'net',
        uniqueId: `c${id}`,
        state: childState,
        traffic: { bytesIn, bytesOut: bytesIn * 2, packetsIn: 1, packetsOut: 2 },
        rekeySeconds: 500 + Number(id),
        lifeSeconds: 900 + Number(id),
        localTs: ['192.0.2.0/24'],
        remoteTs: ['198.51.100.0/24'],
      },
    ],
  };
}

const snapshot = buildStrongswanSnapshot({
  info: { product: 'charon', version: '5.9.8', os: 'Linux 6.18 x86_64', uptimeSeconds: 42 },
  conns: [
    { name: 'site', kind: 'site-to-site', ignored: false, children: ['net'] },
    { name: 'site-down', kind: 'site-to-site', ignored: false, children: ['net'] },
    { name: 'rw', kind: 'remote-access', ignored: false, children: ['rw-net'] },
    { name: 'old', kind: 'site-to-site', ignored: true, children: ['old'] },
  ],
  ikeSas: [
    ikeSa('site', '1', undefined, 'REKEYING', 1000),
    ikeSa('rw', '2', 'alice', 'INSTALLED', 10),
    ikeSa('rw', '3', 'alice', 'INSTALLED', 20),
    ikeSa('rw', '4', 'bob "the" \\ builder', 'INSTALLED', 5),
  ],
  pools: [{ name: 'rw-pool', base: '203.0.113.0', size: 14, online: 3, offline: 1 }],
  stats: { ikeSasTotal: 4, ikeSasHalfOpen: 0 },
});

async function render(): Promise<string> {
  return buildProbeMetrics({ success: true, durationSeconds: 0.25, snapshot }, addStrongswanFamilies).render();
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('core family: tunnel states, a rekeying child is up, ignored is not alerted on', async () => {
  const text = await render();
  assert.equal(sample(text, 'probe_success'), 1);
  assert.equal(sample(text, 'vpn_tunnel_up{tunnel="site",kind="site-to-site"}'), 1);
  assert.equal(sample(text, 'vpn_tunnel_up{tunnel="site-down",kind="site-to-site"}'), 0);
  assert.equal(sample(text, 'vpn_tunnel_up{tunnel="old",kind="site-to-site"}'), undefined);
  assert.equal(sample(text, 'vpn_tunnel_state{tunnel="old",state="ignored"}'), 1);
  assert.equal(sample(text, 'vpn_tunnel_state{tunnel="site-down",state="down"}'), 1);
  assert.equal(sample(text, 'vpn_tunnel_state{tunnel="site-down",state="up"}'), 0);
  assert.equal(sample(text, 'vpn_tunnel_sessions{tunnel="rw"}'), 3);
  assert.equal(sample(text, 'vpn_tunnel_receive_bytes_total{tunnel="rw"}'), 35);
  assert.equal(sample(text, 'vpn_tunnel_child_up{tunnel="site",child="net"}'), 1);
  assert.equal(sample(text, 'vpn_uptime_seconds'), 42);
});

test('users: two sessions of one user are one series with count 2; odd characters are escaped', async () => {
  const text = await render();
  assert.equal(sample(text, 'vpn_user_sessions{tunnel="rw",user="alice"}'), 2);
  assert.equal(sample(text, 'vpn_user_receive_bytes_total{tunnel="rw",user="alice"}'), 30);
  assert.equal(sample(text, 'vpn_user_connected_seconds{tunnel="rw",user="alice"}'), 300);
  assert.equal(sample(text, 'vpn_user_sessions{tunnel="rw",user="bob \\"the\\" \\\\ builder"}'), 1);
  assert.equal(sample(text, 'vpn_pool_leases{pool="rw-pool",state="online"}'), 3);
});

test('strongSwan detail: per conn/child aggregates, soonest rekey', async () => {
  const text = await render();
  assert.equal(sample(text, 'strongswan_child_sa_receive_bytes_total{conn="rw",child="rw-net"}'), 35);
  assert.equal(sample(text, 'strongswan_child_sa_rekey_seconds{conn="rw",child="rw-net"}'), 502);
  assert.equal(sample(text, 'strongswan_child_sas{conn="site",child="net",state="REKEYING"}'), 1);
  assert.equal(sample(text, 'strongswan_ike_sas'), 4);
});

test('no label carries a port, SPI or unique id', async () => {
  const text = await render();
  assert.doesNotMatch(text, /uniqueid|spi|port=|c[0-9]"/i);
});

test('a failed probe exposes only probe_success 0 and its duration', async () => {
  const text = buildProbeMetrics({ success: false, durationSeconds: 1.5 }).render();
  assert.equal(sample(text, 'probe_success'), 0);
  assert.equal(sample(text, 'probe_duration_seconds'), 1.5);
  assert.equal(text.split('\n').filter((l) => l && !l.startsWith('#')).length, 2);
});

test('output passes promtool check metrics', async () => {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: await render(), encoding: 'utf8' });
  assert.equal(r.error, undefined, 'promtool must be installed (Debian package prometheus)');
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('an ignored tunnel has no up or child-up series, only its state', async () => {
  const text = await render();
  assert.doesNotMatch(text, /^vpn_tunnel_(child_)?up\{tunnel="old"/m);
  assert.equal(sample(text, 'vpn_tunnel_state{tunnel="old",state="ignored"}'), 1);
});

test('a family of any size renders exactly its lines, UTF-8 and escapes intact across chunk boundaries', () => {
  // Lines are encoded in batches into growing chunks: sizes on both sides of every boundary.
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.string({ unit: 'binary', maxLength: 300 }), fc.double({ noNaN: false })), { maxLength: 400 }),
      fc.integer({ min: 0, max: 3000 }),
      (samples, padding) => {
        const set = new MetricSet();
        const f = set.family('vpn_test', 'A test\\family\nwith two lines.', 'gauge', ['user', 'n']);
        const lines: string[] = [];
        const all = [...samples, ...Array.from({ length: padding }, (_, i) => [`pad-${i}-ü`, i] as [string, number])];
        all.forEach(([user, value], i) => {
          f.set({ user, n: String(i) }, value);
          const escaped = user.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
          const shown = Number.isNaN(value) ? 'NaN' : value === Infinity ? '+Inf' : value === -Infinity ? '-Inf' : String(value);
          lines.push(`vpn_test{user="${escaped}",n="${i}"} ${shown}`);
        });
        const want = all.length === 0 ? '' : ['# HELP vpn_test A test\\\\family\\nwith two lines.', '# TYPE vpn_test gauge', ...lines, ''].join('\n');
        assert.equal(set.render(), want);
        assert.deepEqual(set.renderBytes(), Buffer.from(want, 'utf8'));
        assert.equal(set.seriesCount, all.length);
      },
    ),
    { numRuns: 60 },
  );
});

test('a family name declared again with other help, type or labels renders its own, never bytes made for another', () => {
  const first = new MetricSet();
  first.family('vpnx_test_reused', 'First help.', 'gauge', ['a']).set({ a: 'x' }, 1);
  const second = new MetricSet();
  second.family('vpnx_test_reused', 'Second help, with a \\ and\na newline.', 'counter', ['b', 'c']).set({ b: 'y', c: 'z' }, 2);
  const third = new MetricSet();
  third.family('vpnx_test_reused', 'First help.', 'gauge', ['a']).set({ a: 'w' }, 3);
  assert.equal(first.render(), '# HELP vpnx_test_reused First help.\n# TYPE vpnx_test_reused gauge\nvpnx_test_reused{a="x"} 1\n');
  assert.equal(
    second.render(),
    '# HELP vpnx_test_reused Second help, with a \\\\ and\\na newline.\n# TYPE vpnx_test_reused counter\nvpnx_test_reused{b="y",c="z"} 2\n',
  );
  assert.equal(third.render(), '# HELP vpnx_test_reused First help.\n# TYPE vpnx_test_reused gauge\nvpnx_test_reused{a="w"} 3\n');
});
