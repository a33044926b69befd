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
