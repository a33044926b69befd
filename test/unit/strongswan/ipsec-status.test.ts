import { mutatedText } from '../../support/mutations.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseCharonDuration } from '../../../src/vendors/strongswan/durations.js';
import { parseIpsecStatus } from '../../../src/vendors/strongswan/ipsec-status.js';
import type { IpsecChildSa, IpsecIkeSa } from '../../../src/vendors/strongswan/ipsec-status.js';
import { ParseError } from '../../../src/util/errors.js';
import { withinCpu } from '../../support/cpu-bound.js';

const read = (path: string): string => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'utf8');
const stroke = (name: string): string => read(`strongswan-stroke/${name}`);

const PLUGINS =
  'charon kernel-libipsec kernel-netlink socket-default stroke updown attr eap-identity eap-mschapv2 xauth-generic openssl nonce random aes sha1 sha2 hmac kdf gmp x509 pubkey pem pkcs1 counters'.split(
    ' ',
  );
const PSK = 'pre-shared key authentication';

/** The gateway's s2s IKE_SA as `ipsec status` (not all) prints it. */
function gwS2s(establishedSeconds: number): IpsecIkeSa {
  return {
    conn: 's2s',
    uniqueId: '1',
    state: 'ESTABLISHED',
    establishedSeconds,
    localHost: '192.0.2.1',
    localId: 'gw.pz.test',
    remoteHost: '192.0.2.2',
    remoteId: 'peer.pz.test',
    virtualIps: [],
    children: [
      {
        name: 's2s',
        uniqueId: '1',
        state: 'INSTALLED',
        mode: 'TUNNEL',
        reqid: 1,
        protocol: 'ESP',
        encap: true,
        spiIn: 'aac1b384',
        spiOut: '725e33a0',
        localTs: ['198.51.100.0/25'],
        remoteTs: ['198.51.100.128/25'],
      },
    ],
  };
}

describe('ipsec statusall, real strongSwan 5.9.8 captures', () => {
  it('gateway: header, pools, connections and one site-to-site SA with traffic', () => {
    const s2s = gwS2s(11);
    const child = s2s.children[0] as IpsecChildSa;
    Object.assign(child, {
      proposal: 'AES_CBC_128/HMAC_SHA2_256_128',
      traffic: { bytesIn: 108, bytesOut: 192, packetsIn: 3, packetsOut: 3 },
      lastInSeconds: 2,
      lastOutSeconds: 2,
      rekeySeconds: 45 * 60,
    });
    Object.assign(s2s, {
      version: 2,
      initiator: false,
      reauthSeconds: 7200,
      proposal: 'AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519',
    });
    const conn = (name: string, remote: string, localId: string, remoteAuth: object[], ikeVersion: string, localTs: string, remoteTs: string) => ({
      name,
      localAddresses: '192.0.2.1',
      remoteAddresses: remote,
      ikeVersion,
      aggressive: false,
      localAuth: [{ id: localId, uses: PSK }],
      remoteAuth,
      children: [{ name, localTs: [localTs], remoteTs: [remoteTs], mode: 'TUNNEL' }],
    });
    assert.deepEqual(parseIpsecStatus(stroke('gw-statusall.txt')), {
      daemon: { product: 'strongSwan', version: '5.9.8', system: 'Linux 6.18.44-fc-v669', machine: 'x86_64', uptimeSeconds: 11, since: 'Nov 24 06:48:47 2026' },
      workers: { total: 16, idle: 7, active: { critical: 5, high: 0, medium: 4, low: 0 } },
      queues: { critical: 0, high: 0, medium: 0, low: 0 },
      scheduled: 5,
      plugins: PLUGINS,
      pools: [
        { name: '203.0.113.128/26', size: 62, online: 0, offline: 0 },
        { name: '203.0.113.192/26', size: 62, online: 0, offline: 0 },
      ],
      listeningAddresses: ['192.0.2.1'],
      connections: [
        conn('s2s', '192.0.2.2', 'gw.pz.test', [{ id: 'peer.pz.test', uses: PSK }], 'IKEv2', '198.51.100.0/25', '198.51.100.128/25'),
        conn('standby', '192.0.2.3', 'gw.pz.test', [{ id: 'standby.pz.test', uses: PSK }], 'IKEv2', '198.51.100.0/25', '203.0.113.0/24'),
        conn('rw-eap', '%any', 'rw.pz.test', [{ uses: "EAP_MSCHAPV2 authentication with EAP identity '%any'" }], 'IKEv2', '0.0.0.0/0', 'dynamic'),
        conn('rw-xauth', '%any', 'rwx.pz.test', [{ uses: PSK }, { uses: 'XAuth authentication: any' }], 'IKEv1', '0.0.0.0/0', 'dynamic'),
      ],
      shunted: [],
      routed: [],
      sasUp: 1,
      sasConnecting: 0,
      ikeSasTotal: 1,
      ikeSasHalfOpen: 0,
      ikeSas: [s2s],
      noMatch: false,
    });
  });

  it('ipsec status and ipsec status NAME for an up conn print only SA lines', () => {
    for (const name of ['gw-status.txt', 'gw-status-s2s.txt']) {
      const status = parseIpsecStatus(stroke(name));
      assert.equal(status.daemon, undefined);
      assert.deepEqual(status.ikeSas, [gwS2s(11)]);
      assert.equal(status.noMatch, false);
    }
  });

  it('a configured but down name prints "no match" with daemon-wide counts', () => {
    for (const name of ['gw-status-standby-no-match.txt', 'gw-statusall-standby-no-match.txt']) {
      const status = parseIpsecStatus(stroke(name));
      assert.equal(status.noMatch, true);
      assert.deepEqual(status.ikeSas, []);
      assert.equal(status.sasUp, 1);
    }
    assert.deepEqual(
      parseIpsecStatus(stroke('gw-statusall-standby-no-match.txt')).connections.map((c) => c.name),
      ['standby'],
    );
  });

  it('a CONNECTING IKE_SA with its task queue, next to the established one', () => {
    const status = parseIpsecStatus(stroke('gw-statusall-connecting.txt'));
    assert.deepEqual([status.sasUp, status.sasConnecting, status.ikeSasTotal, status.ikeSasHalfOpen], [1, 1, 2, 1]);
    assert.deepEqual(status.ikeSas[0], {
      conn: 'standby',
      uniqueId: '2',
      state: 'CONNECTING',
      localHost: '192.0.2.1',
      localId: '%any',
      remoteHost: '192.0.2.3',
      remoteId: '%any',
      version: 2,
      initiator: true,
      virtualIps: [],
      children: [],
    });
    assert.equal(status.ikeSas[1]?.establishedSeconds, 18);
    assert.deepEqual(
      parseIpsecStatus(stroke('gw-status-connecting.txt')).ikeSas.map((s) => s.state),
      ['CONNECTING', 'ESTABLISHED'],
    );
  });

  it('the initiating peer sees the mirror image', () => {
    const [sa] = parseIpsecStatus(stroke('peer-statusall.txt')).ikeSas;
    assert.equal(sa?.initiator, true);
    assert.deepEqual(sa?.children[0]?.traffic, { bytesIn: 192, bytesOut: 108, packetsIn: 3, packetsOut: 3 });
    assert.deepEqual([sa?.children[0]?.spiIn, sa?.children[0]?.rekeySeconds], ['725e33a0', 44 * 60]);
  });

  it('the shared lab capture: two EAP users and a site-to-site SA', () => {
    const status = parseIpsecStatus(read('strongswan/ipsec-statusall.txt'));
    assert.deepEqual(status.ikeSas.map((s) => [s.conn, s.remoteUserIdKind, s.remoteUserId, s.children.length]).sort(), [
      ['rw-eap', 'EAP', 'alice', 1],
      ['rw-eap', 'EAP', 'bob', 1],
      ['site-a', undefined, undefined, 1],
    ]);
    for (const sa of status.ikeSas) assert.ok(sa.children.every((c) => c.state === 'INSTALLED' && c.traffic !== undefined && c.encap));
    assert.equal(parseIpsecStatus(read('strongswan/ipsec-status-site-b.txt')).noMatch, true);
    assert.deepEqual(
      parseIpsecStatus(read('strongswan/ipsec-status-site-a.txt')).ikeSas.map((s) => s.conn),
      ['site-a'],
    );
    assert.equal(parseIpsecStatus(read('strongswan/ipsec-status.txt')).ikeSas.length, status.ikeSas.length);
  });
});

describe('ipsec statusall, hand-made rekeying and road-warrior output', () => {
  const status = parseIpsecStatus(stroke('hand-statusall-rekey-rw.txt'));
  const sa = (id: string): IpsecIkeSa | undefined => status.ikeSas.find((s) => s.uniqueId === id);

  it('durations in seconds, minutes, hours and days; REKEYED child expiring', () => {
    assert.equal(status.daemon?.uptimeSeconds, 3 * 86400);
    assert.deepEqual([sa('7')?.establishedSeconds, sa('7')?.rekeySeconds, sa('7')?.reauthSeconds], [2 * 86400, 22 * 3600, 2 * 86400]);
    assert.deepEqual(sa('7')?.children, [
      {
        name: 's2s',
        uniqueId: '21',
        state: 'INSTALLED',
        mode: 'TUNNEL',
        reqid: 1,
        protocol: 'ESP',
        encap: false,
        spiIn: 'c0ffee01',
        spiOut: 'c0ffee02',
        proposal: 'AES_GCM_16_256',
        traffic: { bytesIn: 1234, bytesOut: 5678, packetsIn: 12, packetsOut: 34 },
        lastInSeconds: 3,
        lastOutSeconds: 1,
        rekeySeconds: 2400,
        localTs: ['198.51.100.0/25'],
        remoteTs: ['198.51.100.128/25'],
      },
      {
        name: 's2s',
        uniqueId: '20',
        state: 'REKEYED',
        mode: 'TUNNEL',
        reqid: 1,
        expiresSeconds: 58,
        localTs: ['198.51.100.0/25'],
        remoteTs: ['198.51.100.128/25'],
      },
    ]);
  });

  it('EAP and XAuth identities, REKEYING child and IKE_SA, rekeying active/disabled', () => {
    assert.deepEqual(
      [sa('9')?.remoteUserIdKind, sa('9')?.remoteUserId, sa('9')?.localId, sa('9')?.rekeySeconds],
      ['EAP', 'alice', 'C=CH, O=PZ Lab, CN=gw.pz.test', undefined],
    );
    assert.deepEqual(
      sa('9')?.children.map((c) => [c.state, c.expiresSeconds, c.rekeyActive, c.localTs, c.remoteTs]),
      [
        ['REKEYING', 540, undefined, ['0.0.0.0/0', '::/0'], ['203.0.113.129/32']],
        ['INSTALLED', undefined, true, ['0.0.0.0/0', '::/0'], ['203.0.113.129/32']],
      ],
    );
    assert.deepEqual([sa('11')?.version, sa('11')?.remoteUserIdKind, sa('11')?.remoteUserId, sa('11')?.reauthSeconds], [1, 'XAuth', 'carol', 7200]);
    assert.deepEqual(sa('11')?.children[0]?.traffic, { bytesIn: 84, bytesOut: 0, packetsIn: 1, packetsOut: 0 });
    assert.deepEqual([sa('12')?.state, sa('12')?.localHost, sa('12')?.remoteHost, sa('12')?.remoteUserId], ['REKEYING', '2001:db8::1', '2001:db8::5', 'bob']);
  });

  it('routed connections, aggressive mode, dpd settings and certificate lines', () => {
    assert.deepEqual(status.routed, [
      { name: 'trap', uniqueId: '4', state: 'ROUTED', mode: 'TUNNEL', reqid: 4, localTs: ['198.51.100.0/25'], remoteTs: ['203.0.113.0/26'] },
    ]);
    const xauth = status.connections.find((c) => c.name === 'rw-xauth');
    assert.deepEqual([xauth?.aggressive, xauth?.dpdDelaySeconds, xauth?.children[0]?.dpdAction], [true, 30, 'clear']);
    assert.deepEqual(status.connections.find((c) => c.name === 'rw-eap')?.localAuth, [
      { id: 'C=CH, O=PZ Lab, CN=gw.pz.test', uses: 'public key authentication' },
    ]);
    assert.deepEqual(
      status.pools.map((p) => p.online),
      [2, 1],
    );
  });

  it('the same SAs through ipsec status carry no traffic', () => {
    const short = parseIpsecStatus(stroke('hand-status-rekey-rw.txt'));
    assert.deepEqual(
      short.ikeSas.map((s) => [s.uniqueId, s.state, s.children.map((c) => c.state).join('+')]),
      [
        ['7', 'ESTABLISHED', 'INSTALLED+REKEYED'],
        ['9', 'ESTABLISHED', 'REKEYING+INSTALLED'],
        ['11', 'ESTABLISHED', 'INSTALLED'],
        ['12', 'REKEYING', ''],
      ],
    );
    assert.ok(short.ikeSas.every((s) => s.children.every((c) => c.traffic === undefined)));
  });
});

describe('ipsec statusall, edges', () => {
  it('durations', () => {
    assert.deepEqual(['1 second', '0 seconds', '45 minutes', '3 hours', '2 days', 'soon', '1 week'].map(parseCharonDuration), [
      1,
      0,
      2700,
      10800,
      172800,
      undefined,
      undefined,
    ]);
  });
  it('the header accepts an IKE_SAs count line should a build print one', () => {
    const s = parseIpsecStatus(
      'Status of IKE charon daemon (strongSwan 5.9.8):\n  IKE_SAs: 4 total, 1 half-open\nSecurity Associations (3 up, 1 connecting):\n  none\n',
    );
    assert.deepEqual([s.ikeSasTotal, s.ikeSasHalfOpen, s.daemon?.version, s.daemon?.system], [4, 1, '5.9.8', undefined]);
  });
  it('keeps an SA whose duration or detail lines it does not know, without the unknown part', () => {
    const odd = parseIpsecStatus(
      'Security Associations (1 up, 0 connecting):\n  x[1]: ESTABLISHED ages ago, a[b]...c[d]\n  x{1}:  INSTALLED, TUNNEL, reqid 1\n  x{1}:  garbage\n  x[1]: a line from a future release\n',
    );
    assert.deepEqual(
      odd.ikeSas.map((sa) => [sa.state, sa.establishedSeconds, sa.children.map((c) => [c.state, c.traffic])]),
      [['ESTABLISHED', undefined, [['INSTALLED', undefined]]]],
    );
  });
  it('rejects what is not status output', () => {
    const rejects = (text: string, message: RegExp): void => {
      assert.throws(
        () => parseIpsecStatus(text),
        (e: unknown) => e instanceof ParseError && message.test(e.message),
      );
    };
    rejects('', /without a "Security Associations" line/);
    rejects("connecting to 'unix:///var/run/charon.ctl' failed: No such file or directory\n", /not ipsec status output/);
    rejects('Security Associations (1 up, 0 connecting):\n  x{1}:  INSTALLED, TUNNEL, reqid 1\n', /CHILD_SA before any IKE_SA/);
    rejects('Security Associations (1 up, 0 connecting):\n  x[1]: IKE proposal: AES\n', /before its IKE_SA line/);
    rejects(`Security Associations (0 up, 0 connecting):\n${'x'.repeat(20_000)}`, /too long/);
  });
});

function onlyDataOrParseError(text: string): void {
  withinCpu(500, 'the parse', () => {
    try {
      const status = parseIpsecStatus(text);
      assert.ok(Array.isArray(status.ikeSas));
    } catch (e) {
      assert.ok(e instanceof ParseError, `threw ${String(e)}`);
    }
  });
}

describe('ipsec statusall, properties', () => {
  const texts = [
    'gw-statusall.txt',
    'gw-statusall-connecting.txt',
    'gw-status.txt',
    'peer-statusall.txt',
    'gw-status-standby-no-match.txt',
    'hand-statusall-rekey-rw.txt',
    'hand-status-rekey-rw.txt',
  ].map(stroke);
  it('arbitrary text gives data or ParseError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), onlyDataOrParseError), { numRuns: 300 });
  });
  it('arbitrary SA-looking lines give data or ParseError', () => {
    const line = fc
      .tuple(
        fc.constantFrom('x[1]: ', 'x{1}:  ', 'y[2]: ', '  '),
        fc.constantFrom(
          'ESTABLISHED 3 seconds ago, a[b]...c[d]',
          'INSTALLED, TUNNEL, reqid 1',
          '  1.0.0.0/8 === 2.0.0.0/8',
          'IKEv2 SPIs: 1_i* 2_r, rekeying in 2 days',
          'AES, 1 bytes_i, 2 bytes_o, rekeying disabled',
          'Remote EAP identity: a',
          'no match',
          'REKEYED, TUNNEL, reqid 1, expires in 1 second',
          '',
        ),
      )
      .map(([a, b]) => a + b);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 10 }), (ls) => onlyDataOrParseError(`Security Associations (1 up, 0 connecting):\n${ls.join('\n')}\n`)),
      { numRuns: 300 },
    );
  });
  it('mutated real captures give data or ParseError', () => {
    const mutated = mutatedText(texts);
    fc.assert(fc.property(mutated, onlyDataOrParseError), { numRuns: 500 });
  });
});
