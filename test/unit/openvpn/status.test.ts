import { mutatedText } from '../../support/mutations.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseOpenvpnStatus } from '../../../src/vendors/openvpn/status.js';
import type { OpenvpnClient, OpenvpnRoute, OpenvpnServerStatus } from '../../../src/vendors/openvpn/status.js';
import { ParseError } from '../../../src/util/errors.js';
import { withinCpu } from '../../support/cpu-bound.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/openvpn/${name}`, import.meta.url), 'utf8');
const FIXTURES = [
  'v1-udp-2.6.status',
  'v2-udp-auth-2.6.status',
  'v3-tcp-2.6.status',
  'client-2.6.status',
  'v1-2.4-ctime-crlf.status',
  'v2-2.4-ctime.status',
  'v2-2.5-ipv6-tap.status',
  'v3-2.7-prefixed.status',
];

function server(name: string): OpenvpnServerStatus {
  const status = parseOpenvpnStatus(fixture(name));
  assert.notEqual(status.format, 'client');
  return status as OpenvpnServerStatus;
}

const LAB = '192.0.2.2';
const T26 = 1795502822; // 2026-11-24 06:47:02 UTC, when the lab clients connected
const TITLE_26 = 'OpenVPN 2.6.14 x86_64-pc-linux-gnu [SSL (OpenSSL)] [LZO] [LZ4] [EPOLL] [PKCS11] [MH/PKTINFO] [AEAD] [DCO]';
const route = (virtualAddress: string, commonName: string, port: number, lastRef = T26): OpenvpnRoute => ({
  virtualAddress,
  commonName,
  address: LAB,
  port,
  lastRef,
});

describe('OpenVPN status, real 2.6.14 captures', () => {
  it('v1: clients without virtual addresses, routes, queue length, no title', () => {
    const c = (commonName: string, port: number, bytesReceived: number, bytesSent: number): OpenvpnClient => ({
      commonName,
      address: LAB,
      port,
      bytesReceived,
      bytesSent,
      connectedSince: T26,
    });
    assert.deepEqual(server('v1-udp-2.6.status'), {
      format: 'v1',
      updated: T26 + 1,
      clients: [c('bob', 53550, 3006, 2586), c('alice', 49424, 2148, 2167), c('alice', 36967, 2148, 2166)],
      routes: [route('198.51.100.2', 'alice', 36967), route('198.51.100.3', 'alice', 49424), route('198.51.100.4', 'bob', 53550)],
      globalStats: { other: {}, maxBcastMcastQueueLength: 0 },
    });
  });

  it('v2: usernames vs UNDEF, duplicate CN told apart by client id, iroute subnet, dco_enabled', () => {
    const c = (commonName: string, port: number, v: string, rx: number, tx: number, id: number, cipher: string, username?: string): OpenvpnClient => ({
      commonName,
      address: LAB,
      port,
      bytesReceived: rx,
      bytesSent: tx,
      virtualAddress: v,
      connectedSince: T26,
      ...(username ? { username } : {}),
      clientId: id,
      peerId: id,
      cipher,
    });
    assert.deepEqual(server('v2-udp-auth-2.6.status'), {
      format: 'v2',
      title: TITLE_26,
      version: '2.6.14',
      updated: T26 + 1,
      clients: [
        c('bob', 34293, '198.51.100.68', 3007, 2590, 2, 'AES-128-GCM'),
        c('alice', 52509, '198.51.100.67', 2166, 2170, 1, 'AES-256-GCM', 'alice'),
        c('alice', 47395, '198.51.100.66', 2168, 2169, 0, 'AES-256-GCM', 'alice'),
      ],
      routes: [
        route('198.51.100.68', 'bob', 34293),
        route('198.51.100.67', 'alice', 52509),
        route('203.0.113.0/24', 'bob', 34293),
        route('198.51.100.66', 'alice', 47395),
      ],
      globalStats: { other: {}, maxBcastMcastQueueLength: 0, dcoEnabled: false },
    });
  });

  it('v3: tab-separated TCP server', () => {
    const s = server('v3-tcp-2.6.status');
    assert.equal(s.format, 'v3');
    assert.equal(s.version, '2.6.14');
    assert.deepEqual(s.clients[1], {
      commonName: 'bob',
      address: LAB,
      port: 32804,
      bytesReceived: 3027,
      bytesSent: 2659,
      virtualAddress: '198.51.100.132',
      connectedSince: T26,
      clientId: 2,
      peerId: 2,
      cipher: 'AES-128-GCM',
    });
    assert.deepEqual(
      s.clients.map((c) => [c.commonName, c.clientId, c.port]),
      [
        ['alice', 0, 32796],
        ['bob', 2, 32804],
        ['alice', 1, 32798],
      ],
    );
    assert.deepEqual(
      s.routes.map((r) => r.virtualAddress),
      ['198.51.100.131', '198.51.100.130', '198.51.100.132'],
    );
    assert.deepEqual(s.globalStats, { other: {}, maxBcastMcastQueueLength: 0, dcoEnabled: false });
  });

  it('client-mode STATISTICS file', () => {
    assert.deepEqual(parseOpenvpnStatus(fixture('client-2.6.status')), {
      format: 'client',
      updated: T26 + 1,
      counters: {
        'TUN/TAP read bytes': 176,
        'TUN/TAP write bytes': 156,
        'TCP/UDP read bytes': 2192,
        'TCP/UDP write bytes': 2162,
        'Auth read bytes': 156,
      },
      tunTapReadBytes: 176,
      tunTapWriteBytes: 156,
      tcpUdpReadBytes: 2192,
      tcpUdpWriteBytes: 2162,
    });
  });
});

describe('OpenVPN status, hand-written layouts of other releases', () => {
  it('v1 with ctime times, CRLF and an unbracketed IPv6 real address', () => {
    assert.deepEqual(server('v1-2.4-ctime-crlf.status'), {
      format: 'v1',
      updated: 1763633472,
      clients: [
        { commonName: 'alice', address: '203.0.113.10', port: 51820, bytesReceived: 123456, bytesSent: 654321, connectedSince: 1763629200 },
        { commonName: 'bob', address: '2001:db8::7', port: 1194, bytesReceived: 42, bytesSent: 84, connectedSince: 1763627405 },
      ],
      routes: [
        { virtualAddress: '198.51.100.6', commonName: 'alice', address: '203.0.113.10', port: 51820, lastRef: 1763633460 },
        { virtualAddress: '198.51.100.10', commonName: 'bob', address: '2001:db8::7', port: 1194, lastRef: 1763633460 },
      ],
      globalStats: { other: {}, maxBcastMcastQueueLength: 3 },
    });
  });

  it('2.4 v2 without client/peer id and cipher columns, empty virtual address', () => {
    const s = server('v2-2.4-ctime.status');
    assert.equal(s.version, '2.4.12');
    assert.equal(s.updated, 1763633472);
    assert.deepEqual(s.clients, [
      {
        commonName: 'alice',
        address: '203.0.113.10',
        port: 51820,
        bytesReceived: 123456,
        bytesSent: 654321,
        virtualAddress: '198.51.100.6',
        connectedSince: 1763629200,
        username: 'alice',
      },
      { commonName: 'carol', address: '203.0.113.11', port: 40000, bytesReceived: 500, bytesSent: 600, connectedSince: 1763633460 },
    ]);
    assert.deepEqual(s.routes, [{ virtualAddress: '198.51.100.6', commonName: 'alice', address: '203.0.113.10', port: 51820, lastRef: 1763633460 }]);
    assert.deepEqual(s.globalStats, { other: {}, maxBcastMcastQueueLength: 0 });
  });

  it('bracketed IPv6, v4-mapped, port-less real addresses and a tap MAC route', () => {
    const s = server('v2-2.5-ipv6-tap.status');
    assert.deepEqual(
      s.clients.map((c) => [c.address, c.port, c.virtualAddress, c.virtualIpv6Address]),
      [
        ['2001:db8::7', 1194, undefined, '2001:db8:100::2'],
        ['::ffff:198.51.100.9', 40001, '203.0.113.70', undefined],
        ['203.0.113.12', undefined, '203.0.113.71', undefined],
      ],
    );
    assert.deepEqual(
      s.routes.map((r) => r.virtualAddress),
      ['02:00:5e:10:00:01', '2001:db8:100::2'],
    );
  });

  it('2.7 protocol-prefixed addresses, same CN twice, dco enabled', () => {
    const s = server('v3-2.7-prefixed.status');
    assert.equal(s.version, '2.7.0');
    assert.equal(s.updated, 1771727802);
    assert.deepEqual(
      s.clients.map((c) => [c.commonName, c.protocol, c.address, c.port, c.clientId, c.username]),
      [
        ['alice', 'udp4', '198.51.100.7', 1194, 0, undefined],
        ['alice', 'tcp4-server', '203.0.113.9', 50000, 1, undefined],
        ['bob', 'udp6', '2001:db8::7', 1194, 2, 'bob'],
      ],
    );
    assert.deepEqual(s.clients[0], {
      commonName: 'alice',
      protocol: 'udp4',
      address: '198.51.100.7',
      port: 1194,
      bytesReceived: 1000,
      bytesSent: 2000,
      virtualAddress: '203.0.113.66',
      virtualIpv6Address: '2001:db8:100::1000',
      connectedSince: 1771722000,
      clientId: 0,
      peerId: 0,
      cipher: 'AES-256-GCM',
    });
    assert.equal(s.routes.length, 4);
    assert.deepEqual(s.routes[3], {
      virtualAddress: '203.0.113.68',
      commonName: 'bob',
      protocol: 'udp6',
      address: '2001:db8::7',
      port: 1194,
      lastRef: 1771727800,
    });
    assert.equal(s.globalStats.dcoEnabled, true);
  });

  it('keeps unknown global stats and skips unknown record types', () => {
    const s = parseOpenvpnStatus('TITLE,OpenVPN 2.8.0\nFUTURE,x,y\nGLOBAL_STATS,new_stat,7\nGLOBAL_STATS,__proto__,1\nEND\n') as OpenvpnServerStatus;
    assert.equal(s.globalStats.other.new_stat, '7');
    assert.ok(Object.hasOwn(s.globalStats.other, '__proto__'));
    assert.deepEqual(s.clients, []);
  });
});

describe('OpenVPN status, rejected input', () => {
  const rejects = (text: string, message: RegExp, limits = {}): void => {
    assert.throws(
      () => parseOpenvpnStatus(text, limits),
      (e: unknown) => e instanceof ParseError && message.test(e.message),
    );
  };
  it('names the problem', () => {
    rejects('', /empty/);
    rejects('hello\n', /not an OpenVPN status/);
    rejects(fixture('v2-udp-auth-2.6.status').replace('END\n', ''), /without END/);
    rejects(fixture('v1-udp-2.6.status').slice(0, 200), /without END/);
    rejects('CLIENT_LIST,a,1.2.3.4:5,,,1,2\nEND\n', /before its HEADER/);
    rejects('HEADER,CLIENT_LIST,Common Name,Bytes Received,Bytes Sent\nCLIENT_LIST,a,1\nEND\n', /2 fields but the header has 3/);
    rejects('HEADER,CLIENT_LIST,Common Name,Real Address\nEND\n', /lacks "Bytes Received"/);
    rejects('HEADER,CLIENT_LIST,Common Name,Real Address,Bytes Received,Bytes Sent\nCLIENT_LIST,a,1.2.3.4:99999,1,2\nEND\n', /bad port/);
    rejects('HEADER,CLIENT_LIST,Common Name,Bytes Received,Bytes Sent\nCLIENT_LIST,a,x,2\nEND\n', /not a count/);
    rejects('TIME,yesterday\nEND\n', /unrecognised time/);
    rejects('GLOBAL_STATS,dco_enabled,yes\nEND\n', /dco_enabled/);
    rejects(fixture('v1-udp-2.6.status'), /more than 5 lines/, { maxLines: 5 });
    rejects(fixture('v2-udp-auth-2.6.status'), /longer than 100/, { maxLineLength: 100 });
  });
});

// The bound catches super-linear parsing (a backtracking regexp), not speed: small inputs
// parse in microseconds, the 1 MB ones below in 100-400 ms of CPU on a cold machine.
function onlyDataOrParseError(text: string, boundMs = 500): void {
  withinCpu(boundMs, 'the parse', () => {
    try {
      const status = parseOpenvpnStatus(text);
      assert.ok(['v1', 'v2', 'v3', 'client'].includes(status.format));
    } catch (e) {
      assert.ok(e instanceof ParseError, `threw ${String(e)}`);
    }
  });
}

describe('OpenVPN status, properties', () => {
  const texts = FIXTURES.map(fixture);
  it('arbitrary text gives data or ParseError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => onlyDataOrParseError(text)),
      { numRuns: 300 },
    );
  });
  it('arbitrary lines after a valid v2 prefix give data or ParseError', () => {
    const line = fc
      .array(fc.constantFrom('HEADER', 'CLIENT_LIST', 'ROUTING_TABLE', 'GLOBAL_STATS', 'TIME', 'x', '', '1', 'UNDEF'), { maxLength: 8 })
      .map((f) => f.join(','));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (ls) => onlyDataOrParseError(`TITLE,OpenVPN\n${ls.join('\n')}\nEND\n`)),
      { numRuns: 300 },
    );
  });
  it('mutated real fixtures give data or ParseError', () => {
    fc.assert(
      fc.property(mutatedText(texts), (text) => onlyDataOrParseError(text)),
      { numRuns: 600 },
    );
  });
  it('a maximal file is refused or parsed quickly', () => {
    onlyDataOrParseError(`OpenVPN CLIENT LIST\n${'a,1.2.3.4:5,1,2,3\n'.repeat(150_000)}`, 5000);
    onlyDataOrParseError(`TITLE,${'x'.repeat(1_000_000)}`, 5000);
  });
});
