import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildWireguardSnapshot } from '../../../src/vendors/wireguard/snapshot.js';
import { buildProbeMetrics } from '../../../src/exposition/probe-metrics.js';
import { addWireguardFamilies } from '../../../src/vendors/wireguard/metrics.js';
import { wireguardSections } from '../../../src/vendors/wireguard/ssh.js';
import type { WgInterfaceRecord } from '../../../src/vendors/wireguard/show.js';
import { samples } from '../../support/exposition.js';

const A = 'Gs+urE9i6yncwNKW9hf+EcNrW2Hhoae5Bt1EB0a3jXQ=';
const B = '8NY/I2RMIstg4iNLhgoM7f0KjpEFuQtL05Hz+nJ6jFg=';
const C = 'IZkTfJ+Me8LVd/7RDOm1XNSvHzWjpDKE5TBuFxEZMnY=';
const D = 'AFJapbZZ3cvCgrEN2+tfnsD++zmz+r5bw+SgNXynDgk=';
const NOW = 1796180100;

const interfaces: WgInterfaceRecord[] = [
  {
    name: 'wg0',
    publicKey: 'BY/JehHuk2BznHuTAwhuTAPQHJ/Gkea13gQW+COxzUQ=',
    listenPort: 51820,
    peers: [
      {
        publicKey: A,
        endpoint: '192.0.2.11:40001',
        allowedIps: ['198.51.100.2/32', '203.0.113.16/28'],
        latestHandshake: NOW - 100,
        rxBytes: 10,
        txBytes: 20,
        persistentKeepalive: 25,
      },
      { publicKey: B, allowedIps: ['198.51.100.3/32'], rxBytes: 0, txBytes: 0 },
      { publicKey: C, endpoint: '[2001:db8::c]:51820', allowedIps: [], latestHandshake: NOW - 180, rxBytes: 5, txBytes: 6 },
      { publicKey: D, endpoint: '192.0.2.14:9', allowedIps: [], latestHandshake: NOW - 1, rxBytes: 1, txBytes: 2 },
    ],
  },
  { name: 'wg1', listenPort: 0, peers: [] },
];

function build() {
  return buildWireguardSnapshot({
    interfaces,
    configNames: new Map([
      [
        'wg0',
        new Map([
          [A, 'alice'],
          [C, 'carol'],
          [D, 'alice'],
        ]),
      ],
    ]),
    moduleNames: { [C]: 'carol (module)' },
    nowSeconds: NOW,
    connectedWithinSeconds: 180,
    version: '1.0.20210914',
    hostname: 'gw',
  });
}

describe('WireGuard snapshot', () => {
  it('interfaces are tunnels, up while they exist; peers younger than connected_within are sessions', () => {
    const s = build();
    assert.deepEqual(s.info, { vendor: 'wireguard', product: 'WireGuard', version: '1.0.20210914', hostname: 'gw' });
    assert.deepEqual(
      s.tunnels.map((t) => [t.name, t.state, t.activeSessions, t.traffic]),
      [
        ['wg0', 'up', 2, { bytesIn: 16, bytesOut: 28 }],
        ['wg1', 'up', 0, { bytesIn: 0, bytesOut: 0 }],
      ],
    );
    // C's handshake is exactly 180 s old: not younger than 3m. B never shook hands.
    assert.deepEqual(
      s.sessions.map((x) => [x.tunnel, x.user, x.id, x.remoteAddress, x.remotePort, x.virtualAddresses]),
      [
        ['wg0', 'alice', A, '192.0.2.11', 40001, ['198.51.100.2/32', '203.0.113.16/28']],
        ['wg0', 'alice', D, '192.0.2.14', 9, []],
      ],
    );
    const peers = s.wireguard?.interfaces[0]?.peers ?? [];
    assert.deepEqual(
      peers.map((p) => [p.name, p.nameSource, p.label, p.connected, p.handshakeAgeSeconds]),
      [
        ['alice', 'config', `alice (${A.slice(0, 8)})`, true, 100],
        [B.slice(0, 8), 'key', B.slice(0, 8), false, undefined],
        ['carol (module)', 'module', 'carol (module)', false, 180],
        ['alice', 'config', `alice (${D.slice(0, 8)})`, true, 1],
      ],
    );
  });

  it('exposes core and wireguard families with names, never keys or endpoints, as labels', () => {
    const text = buildProbeMetrics({ success: true, durationSeconds: 0.1, snapshot: build() }, addWireguardFamilies).render();
    assert.deepEqual(samples(text, 'vpn_user_sessions'), [{ labels: { tunnel: 'wg0', user: 'alice' }, value: 2 }]);
    assert.equal(samples(text, 'vpn_tunnel_up').length, 2);
    const hs = samples(text, 'wireguard_peer_latest_handshake_timestamp_seconds');
    assert.deepEqual(
      hs.map((x) => [x.labels.peer, x.value]),
      [
        [`alice (${A.slice(0, 8)})`, NOW - 100],
        ['carol (module)', NOW - 180],
        [`alice (${D.slice(0, 8)})`, NOW - 1],
      ],
    );
    assert.deepEqual(
      samples(text, 'wireguard_peer_connected').map((x) => x.value),
      [1, 0, 0, 1],
    );
    assert.deepEqual(
      samples(text, 'wireguard_peer_persistent_keepalive_seconds').map((x) => x.value),
      [25],
    );
    assert.deepEqual(
      samples(text, 'wireguard_interface_listen_port').map((x) => [x.labels.interface, x.value]),
      [
        ['wg0', 51820],
        ['wg1', 0],
      ],
    );
    assert.deepEqual(
      samples(text, 'wireguard_interface_peers').map((x) => x.value),
      [4, 0],
    );
    for (const secretish of [A, B, C, D, '192.0.2.11', '2001:db8', '40001']) assert.ok(!text.includes(secretish), `${secretish} in the exposition`);
  });

  it('dump reaches the exporter only through its filter, the prefix on wg and cat, never on awk', () => {
    for (const read_config of [true, false]) {
      const sections = wireguardSections({ command_prefix: 'sudo -n', read_config, config_dir: '/etc/wireguard/' });
      const dump = sections.filter((s) => /\bdump\b/.test(s.command));
      assert.deepEqual(
        dump.map((s) => s.id),
        ['dump'],
      );
      const dir = read_config ? "'/etc/wireguard'" : "''";
      assert.match(
        dump[0]?.command ?? '',
        new RegExp(`^\\{ sudo -n wg show all dump </dev/null; printf '\\\\n%s\\\\n' "\\$\\?"; \\} \\| VPNX_WG_DIR=${dir} VPNX_WG_PREFIX='sudo -n' awk '`),
      );
      for (const s of sections) {
        assert.doesNotMatch(s.command, /private-key|preshared-keys|showconf|sudo -n awk/, s.command);
        assert.equal(s.command.split(/\bawk\b/).length - 1, s.id === 'dump' ? 1 : 0, s.command);
      }
    }
  });
});

describe('WireGuard peers in /sessions and on the sessions page', () => {
  it('each connected peer carries its public key, latest handshake and keepalive; a silent one is not a row', async () => {
    const { sessionRows } = await import('../../../src/exposition/sessions-json.js');
    const { renderSessionsPage } = await import('../../../src/web/pages/sessions-page.js');
    const snapshot = build();
    const rows = sessionRows(snapshot, 'gw.example.net', NOW * 1000);
    const byKey = new Map(rows.map((r) => [r.uniqueid, r]));
    assert.deepEqual([...byKey.keys()].sort(), [A, D].sort(), 'B never handshook, C is older than connected_within');
    assert.deepEqual(byKey.get(A)?.details, {
      publicKey: A,
      latestHandshake: new Date((NOW - 100) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      handshakeAgeSeconds: '100',
      persistentKeepaliveSeconds: '25',
    });
    assert.deepEqual(byKey.get(D)?.details, {
      publicKey: D,
      latestHandshake: new Date((NOW - 1) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      handshakeAgeSeconds: '1',
    });
    assert.equal(byKey.get(A)?.remotehost, '192.0.2.11');
    assert.deepEqual(byKey.get(A)?.virtualAddresses, ['198.51.100.2/32', '203.0.113.16/28']);
    const html = renderSessionsPage(
      { target: 'gw.example.net', module: 'wg', id: 1, durationSeconds: 0.1, info: snapshot.info, rows, nowSeconds: NOW },
      'test',
    );
    assert.match(html, /<th[^>]*>Details<\/th>/);
    assert.ok(html.includes(A) && html.includes('handshakeAgeSeconds:</span> 100'), html);
  });
});
