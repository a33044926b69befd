// Two conns sharing one IKE_SA, as real charons printed it (test/fixtures/strongswan/*shared-ike*, captured by
// test/lab/capture-strongswan-fixtures.ts): the stroke gateway and the swanctl peer of one tunnel. Each conn is
// up when its own CHILD_SA is installed, whichever IKE_SA carries it, and the IKE_SA is one session only.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { mergeIpsecConf, parseIpsecConf } from '../../../src/vendors/strongswan/ipsec-conf.js';
import { buildIpsecSnapshot } from '../../../src/vendors/strongswan/ipsec-snapshot.js';
import { parseIpsecStatus } from '../../../src/vendors/strongswan/ipsec-status.js';
import { buildStrongswanSnapshot } from '../../../src/vendors/strongswan/snapshot.js';
import { parseListConnEvent, parseListSaEvent } from '../../../src/vendors/strongswan/vici-records.js';
import type { ConfiguredConn } from '../../../src/vendors/strongswan/records.js';
import type { GatewaySnapshot, StrongswanIkeSa } from '../../../src/model/snapshot.js';
import type { ViciSection } from '../../../src/vendors/strongswan/vici-value.js';
import { listConnEvent, listSaEvent } from '../../support/charon-shapes.js';
import { parsePretty } from '../../lab/support/vici-compare.js';

const fixture = (name: string) => readFileSync(`test/fixtures/strongswan/${name}`, 'utf8');

function view(snap: GatewaySnapshot, names: string[]) {
  return names.map((name) => {
    const t = snap.tunnels.find((x) => x.name === name);
    return { name, kind: t?.kind, state: t?.state, sessions: t?.activeSessions, children: t?.children?.map((c) => [c.name, c.installed]) };
  });
}

test('stroke (real statusall): the conns stroke merged into site-a are tunnels of their own, site-a-2 up under site-a[1]', () => {
  const conf = mergeIpsecConf(['ipsec.conf', 'ipsec.lab-extra.conf', 'ipsec.lab-extra-shared-ike.conf'].map((f) => parseIpsecConf(fixture(f))));
  const status = parseIpsecStatus(fixture('ipsec-statusall-shared-ike.txt'));
  // The layout: one IKE_SA named site-a with both CHILD_SAs; no main "Connections:" line for the merged conns.
  const siteA = status.ikeSas.filter((sa) => sa.conn.startsWith('site-a'));
  assert.deepEqual(
    siteA.map((sa) => [sa.conn, sa.children.map((c) => c.name)]),
    [['site-a', ['site-a', 'site-a-2']]],
  );
  assert.equal(status.connections.find((c) => c.name === 'site-a-2')?.remoteAddresses, '');

  const snap = buildIpsecSnapshot(conf, status, 'gw');
  assert.deepEqual(view(snap, ['site-a', 'site-a-2', 'site-a-3']), [
    { name: 'site-a', kind: 'site-to-site', state: 'up', sessions: 1, children: [['site-a', 1]] },
    { name: 'site-a-2', kind: 'site-to-site', state: 'up', sessions: 0, children: [['site-a-2', 1]] },
    { name: 'site-a-3', kind: 'site-to-site', state: 'down', sessions: 0, children: [['site-a-3', 0]] },
  ]);
  const t2 = snap.tunnels.find((t) => t.name === 'site-a-2');
  assert.deepEqual([t2?.localAddress, t2?.remoteAddress], ['192.0.2.1', '192.0.2.2'], 'addresses from ipsec.conf');
  assert.deepEqual(
    snap.sessions.filter((s) => s.tunnel.startsWith('site-a')).map((s) => [s.tunnel, s.user]),
    [['site-a', 'site-a.example']],
  );
});

test('VICI (real list-conns/list-sas of the peer): net-a2 nested under the IKE_SA site-a makes conn site-a2 up', () => {
  const conns: ConfiguredConn[] = [];
  const ikeSas: StrongswanIkeSa[] = [];
  for (const m of parsePretty(fixture('swanctl-peer-shared-ike.pretty.txt'))) {
    if (m.type !== 'event') continue;
    if (m.name === 'list-conn') conns.push(...parseListConnEvent(m.body));
    else if (m.name === 'list-sa') ikeSas.push(...parseListSaEvent(m.body));
  }
  assert.deepEqual(
    ikeSas.map((sa) => [sa.conn, sa.children.map((c) => c.name)]),
    [['site-a', ['net-a', 'net-a2']]],
  );
  const snap = buildStrongswanSnapshot({ info: { product: 'charon' }, conns, ikeSas, pools: [] });
  assert.deepEqual(view(snap, ['site-a', 'site-a2']), [
    { name: 'site-a', kind: 'site-to-site', state: 'up', sessions: 1, children: [['net-a', 1]] },
    { name: 'site-a2', kind: 'site-to-site', state: 'up', sessions: 0, children: [['net-a2', 1]] },
  ]);
  assert.equal(snap.sessions.length, 1);
});

test('an SA of a conn no longer configured keeps its children, even when another conn configures their name', () => {
  // charon-like: conns site-0 (child net) and rw-1 (child rw) loaded; IKE_SAs of site-0, rw-eap and
  // site-2, the last two of conns unloaded since (their SAs live on). site-2's child net is its own.
  const conns = [0, 1].flatMap((i) => parseListConnEvent(listConnEvent(i) as unknown as ViciSection));
  const ikeSas = [0, 1, 2].flatMap((i) => parseListSaEvent(listSaEvent(i) as unknown as ViciSection));
  assert.deepEqual(
    ikeSas.map((sa) => [sa.conn, sa.children.map((c) => c.name)]),
    [
      ['site-0', ['net']],
      ['rw-eap', ['rw']],
      ['site-2', ['net']],
    ],
  );
  const snap = buildStrongswanSnapshot({ info: { product: 'charon' }, conns, ikeSas, pools: [] });
  assert.deepEqual(view(snap, ['site-0', 'site-2', 'rw-1', 'rw-eap']), [
    { name: 'site-0', kind: 'site-to-site', state: 'up', sessions: 1, children: [['net', 1]] },
    { name: 'site-2', kind: 'site-to-site', state: 'up', sessions: 1, children: [['net', 1]] },
    { name: 'rw-1', kind: 'remote-access', state: 'down', sessions: 0, children: [['rw', 0]] },
    { name: 'rw-eap', kind: 'remote-access', state: 'up', sessions: 1, children: [['rw', 1]] },
  ]);
});
