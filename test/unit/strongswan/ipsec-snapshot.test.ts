import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { mergeIpsecConf, parseIpsecConf } from '../../../src/vendors/strongswan/ipsec-conf.js';
import { parseIpsecStatus } from '../../../src/vendors/strongswan/ipsec-status.js';
import { buildIpsecSnapshot } from '../../../src/vendors/strongswan/ipsec-snapshot.js';

const fixture = (name: string) => readFileSync(`test/fixtures/strongswan/${name}`, 'utf8');

test('stroke: ipsec.conf with include and statusall from the real lab make one snapshot', () => {
  const conf = mergeIpsecConf([parseIpsecConf(fixture('ipsec.conf')), parseIpsecConf(fixture('ipsec.lab-extra.conf'))]);
  const snap = buildIpsecSnapshot(conf, parseIpsecStatus(fixture('ipsec-statusall.txt')), 'gw');
  const byName = new Map(snap.tunnels.map((t) => [t.name, t]));
  assert.equal(byName.get('site-a')?.state, 'up');
  assert.equal(byName.get('site-a')?.kind, 'site-to-site');
  assert.equal(byName.get('site-b')?.state, 'down');
  assert.equal(byName.get('rw-eap')?.state, 'up');
  assert.equal(byName.get('rw-eap')?.kind, 'remote-access');
  assert.equal(byName.get('rw-eap')?.activeSessions, 2);
  assert.equal(byName.get('parked')?.state, 'ignored');
  const users = snap.sessions
    .filter((s) => s.tunnel === 'rw-eap')
    .map((s) => s.user)
    .sort();
  assert.deepEqual(users, ['alice', 'bob']);
  for (const s of snap.sessions.filter((x) => x.tunnel === 'rw-eap')) {
    assert.equal(s.virtualAddresses.length, 1);
    assert.match(s.virtualAddresses[0] ?? '', /^198\.51\.100\.1(2[89]|3\d|4[0-3])$/);
  }
  assert.equal(snap.info.version, '5.9.8');
  assert.equal(snap.info.hostname, 'gw');
  assert.deepEqual(
    snap.pools.map((p) => [p.name, p.size, p.online]),
    [['198.51.100.128/28', 14, 2]],
  );
  assert.ok((byName.get('site-a')?.traffic?.bytesIn ?? 0) > 0);
});

test("stroke: a conn merged into another conn's peer config keeps its ipsec.conf addresses and its own CHILD_SA", () => {
  // statusall prints no main line for net-b (stroke merged it into net-a's peer config); its tunnel is
  // still the ipsec.conf conn, with the addresses the file gives, and up through net-a's IKE_SA.
  const conf = parseIpsecConf(`conn %default
    left = 192.0.2.1
    leftid = @gw.example.org
    right = 198.51.100.20
    rightid = @hq-peer.example.org
    authby = psk
    keyexchange = ikev2
    auto = start
conn net-a
    leftsubnet = 10.10.0.0/24
    rightsubnet = 10.20.0.0/24
conn net-b
    also = net-a
    leftsubnet = 10.10.1.0/24
    rightsubnet = 10.20.1.0/24
conn net-c
    also = net-a
    leftsubnet = 10.10.2.0/24
    rightsubnet = 10.20.2.0/24
conn branch
    right = 203.0.113.50
    rightid = @branch.example.org
    leftsubnet = 10.10.0.0/16
    rightsubnet = 10.50.0.0/24
`);
  const text = readFileSync('test/fixtures/strongswan-field/statusall-5.9.8-shared-ike-sa.txt', 'utf8');
  const snap = buildIpsecSnapshot(conf, parseIpsecStatus(text.slice(text.indexOf('\n---\n') + 5)), 'gw');
  const tunnel = (name: string) => snap.tunnels.find((t) => t.name === name);
  assert.deepEqual(
    snap.tunnels.map((t) => [t.name, t.state, t.localAddress, t.remoteAddress]),
    [
      ['net-a', 'up', '192.0.2.1', '198.51.100.20'],
      ['net-b', 'up', '192.0.2.1', '198.51.100.20'],
      ['net-c', 'down', '192.0.2.1', '198.51.100.20'],
      ['branch', 'up', '192.0.2.1', '203.0.113.50'],
    ],
  );
  assert.deepEqual(tunnel('net-b')?.traffic, { bytesIn: 5120, bytesOut: 2560, packetsIn: 40, packetsOut: 20 });
  // One IKE_SA to hq-peer: one session, under the conn whose name it carries.
  assert.deepEqual(
    snap.sessions.map((s) => [s.tunnel, s.user]),
    [
      ['net-a', 'hq-peer.example.org'],
      ['branch', 'branch.example.org'],
    ],
  );
});
