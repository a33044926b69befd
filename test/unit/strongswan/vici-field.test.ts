// VICI messages as other releases and setups send them: shunts, dynamic site-to-site peers, half-open
// IKE_SAs, rekey leftovers and fields in shapes this exporter does not expect. Messages are written by
// hand after the VICI README's list-conns/list-sas/list-certs layouts (strongSwan 5.9).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode, toMessage } from '../../../src/transport/vici/message.js';
import { buildStrongswanSnapshot } from '../../../src/vendors/strongswan/snapshot.js';
import { parseListCertEvent, parseListConnEvent, parseListSaEvent } from '../../../src/vendors/strongswan/vici-records.js';
import { decodeListSaEvent } from '../../../src/vendors/strongswan/vici-list-sa.js';
import type { ViciMessage } from '../../../src/transport/vici/message.js';

/** A list-sa event as the prober reads it (from its bytes), checked against the generic path. */
function listSa(event: ViciMessage) {
  const records = decodeListSaEvent(encode(event));
  assert.deepStrictEqual(records, parseListSaEvent(event));
  return records;
}

const conns = parseListConnEvent(
  toMessage({
    // Site-to-site to a branch on a dynamic address: remote_addrs %any, but remote subnets and PSK.
    branch: {
      local_addrs: ['192.0.2.1'],
      remote_addrs: ['%any'],
      'remote-1': { class: 'pre-shared key' },
      children: { lan: { mode: 'TUNNEL', 'local-ts': ['10.0.0.0/16'], 'remote-ts': ['10.9.0.0/24'] } },
    },
    // Certificate road warriors: any peer, only `dynamic` remote selectors.
    'rw-cert': {
      local_addrs: ['192.0.2.1'],
      remote_addrs: ['%any'],
      'remote-1': { class: 'public key' },
      children: { rw: { mode: 'TUNNEL', 'local-ts': ['0.0.0.0/0'], 'remote-ts': ['dynamic'] } },
    },
    bypass: {
      local_addrs: ['%any'],
      remote_addrs: ['%any'],
      children: { lan: { mode: 'PASS', 'local-ts': ['192.168.1.0/24'], 'remote-ts': ['192.168.1.0/24'] } },
    },
    mixed: { remote_addrs: ['198.51.100.9'], children: { tun: { mode: 'TUNNEL' }, skip: { mode: 'DROP', 'local-ts': ['10.8.0.0/24'] } } },
    // A field in a shape no release sends: ignored.
    odd: { remote_addrs: { unexpected: 'section' }, children: 'not a section', version: ['a', 'list'] },
  }),
);

describe('VICI from the field', () => {
  it('decides remote access from what a conn does, and keeps PASS/DROP children as shunts', () => {
    assert.deepEqual(
      conns.map((c) => [c.name, c.kind, c.children, (c.shunts ?? []).map((s) => `${s.name}:${s.mode}`)]),
      [
        ['branch', 'site-to-site', ['lan'], []],
        ['rw-cert', 'remote-access', ['rw'], []],
        ['bypass', 'site-to-site', [], ['lan:pass']],
        ['mixed', 'site-to-site', ['tun'], ['skip:drop']],
        ['odd', 'remote-access', [], []],
      ],
    );
  });

  it('counts no half-open IKE_SA or rekey leftover as a session, and keeps same-named CHILD_SAs', () => {
    const sas = listSa(
      toMessage({
        branch: {
          uniqueid: '5',
          state: 'ESTABLISHED',
          'remote-id': 'branch.example.org',
          established: 'soon', // not a number: left out
          'child-sas': {
            'lan-7': { name: 'lan', uniqueid: '7', state: 'INSTALLED', 'bytes-in': '10' },
            'lan-8': { name: 'lan', uniqueid: '8', state: 'INSTALLED', 'bytes-in': '20' },
            'lan-6': { name: 'lan', uniqueid: '6', state: 'REKEYED', 'bytes-in': '5' },
          },
        },
      }),
    ).concat(
      listSa(toMessage({ branch: { uniqueid: '4', state: 'REKEYED', 'remote-id': 'branch.example.org' } })),
      listSa(toMessage({ 'rw-cert': { uniqueid: '9', state: 'CONNECTING', 'remote-host': '203.0.113.5', 'remote-id': '%any' } })),
      listSa(toMessage({ 'rw-cert': { uniqueid: '10', state: 'CREATED', 'remote-host': '203.0.113.6' } })),
    );
    const snap = buildStrongswanSnapshot({ info: { product: 'charon' }, conns, ikeSas: sas, pools: [] });
    assert.deepEqual(
      snap.sessions.map((s) => [s.tunnel, s.user]),
      [['branch', 'branch.example.org']],
    );
    const branch = snap.tunnels.find((t) => t.name === 'branch');
    assert.deepEqual(
      [branch?.state, branch?.activeSessions, branch?.children, branch?.traffic?.bytesIn],
      ['up', 1, [{ name: 'lan', installed: 2, state: 'up' }], 35],
    );
    assert.equal(snap.strongswan?.ikeSas[0]?.establishedSeconds, undefined);
    const rw = snap.tunnels.find((t) => t.name === 'rw-cert');
    assert.deepEqual([rw?.state, rw?.activeSessions], ['down', 0]);
    assert.deepEqual(snap.tunnels.map((t) => t.name).sort(), ['branch', 'mixed', 'odd', 'rw-cert']);
    assert.deepEqual(
      snap.shunts?.map((s) => [s.conn, s.name, s.mode]),
      [
        ['bypass', 'lan', 'pass'],
        ['mixed', 'skip', 'drop'],
      ],
    );
  });

  it('skips list-cert events it cannot use', () => {
    assert.deepEqual(parseListCertEvent(toMessage({ type: 'X509_AC', data: 'x' })), {});
    assert.deepEqual(parseListCertEvent(toMessage({ type: 'X509', data: 'not DER' })), {});
    assert.deepEqual(parseListCertEvent(toMessage({ type: 'X509_CRL', data: 'not DER' })), {});
    assert.deepEqual(parseListCertEvent(toMessage({ type: 'PUBKEY', subject: 'x' })), {});
  });
});
