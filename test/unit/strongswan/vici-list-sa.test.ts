// The list-sa decoder that reads records straight from the bytes must give exactly what the generic path
// gives (decode the message, then parseListSaEvent): the same records, or the same error.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { silentProbeLog } from '../../../src/log/probe-log.js';
import { ViciClient } from '../../../src/transport/vici/client.js';
import { decode, encode, toMessage } from '../../../src/transport/vici/message.js';
import { encodePacket } from '../../../src/transport/vici/packet.js';
import { CMD_RESPONSE, EVENT, EVENT_CONFIRM } from '../../../src/transport/vici/wire.js';
import { ProtocolError } from '../../../src/util/errors.js';
import { fetchViciSnapshot } from '../../../src/vendors/strongswan/vici-fetch.js';
import { decodeListSaEvent, readListSaEvent } from '../../../src/vendors/strongswan/vici-list-sa.js';
import { parseListSaEvent } from '../../../src/vendors/strongswan/vici-records.js';
import { listSaEvent, statsResponse, versionResponse } from '../../support/charon-shapes.js';

/** A message as written on the wire, in order, repeats allowed (a JS object could not hold them). */
type Node = { kv: string } | { list: string[] } | { section: Entry[] };
type Entry = [string, Node];

function serialize(entries: readonly Entry[]): Buffer {
  const out: Buffer[] = [];
  const name = (type: number, key: string) => {
    const k = Buffer.from(key, 'utf8');
    out.push(Buffer.from([type, k.length]), k);
  };
  const value = (type: number, v: string) => {
    const b = Buffer.from(v, 'utf8');
    out.push(Buffer.from([type, b.length >> 8, b.length & 0xff]), b);
  };
  const walk = (list: readonly Entry[]) => {
    for (const [key, node] of list) {
      if ('kv' in node) {
        name(3, key);
        const b = Buffer.from(node.kv, 'utf8');
        out.push(Buffer.from([b.length >> 8, b.length & 0xff]), b);
      } else if ('list' in node) {
        name(4, key);
        for (const item of node.list) value(5, item);
        out.push(Buffer.from([6]));
      } else {
        name(1, key);
        walk(node.section);
        out.push(Buffer.from([2]));
      }
    }
  };
  walk(entries);
  return Buffer.concat(out);
}

/** What each path makes of the bytes: records, or the error's class and message. */
function generic(body: Buffer): unknown {
  try {
    return { records: parseListSaEvent(decode(body)) };
  } catch (err) {
    return { error: (err as Error).constructor.name, message: (err as Error).message };
  }
}

function fast(body: Buffer): unknown {
  try {
    return { records: decodeListSaEvent(body) };
  } catch (err) {
    return { error: (err as Error).constructor.name, message: (err as Error).message };
  }
}

const SA_KEYS = [
  'uniqueid',
  'version',
  'state',
  'local-host',
  'local-port',
  'remote-host',
  'remote-port',
  'local-id',
  'remote-id',
  'remote-eap-id',
  'remote-xauth-id',
  'established',
  'rekey-time',
  'reauth-time',
  'remote-vips',
  'child-sas',
  // strongSwan 6 and keys we do not read, near misses of those we do.
  'if-id-in',
  'per-cpu-sas',
  'ike-ke',
  'initiator-spi',
  'stat',
  'states',
  'remote-ids',
  'data',
];
const CHILD_KEYS = [
  'name',
  'uniqueid',
  'reqid',
  'state',
  'mode',
  'protocol',
  'encap',
  'bytes-in',
  'bytes-out',
  'packets-in',
  'packets-out',
  'use-in',
  'install-time',
  'rekey-time',
  'life-time',
  'local-ts',
  'remote-ts',
  'label-mode',
  'if-id-out',
  'name2',
];
const text = fc.oneof(
  fc.constantFrom('ESTABLISHED', 'INSTALLED', 'REKEYED', 'SUSPENDED', 'yes', 'no', 'TUNNEL', 'PASS', 'ESP', 'IKEv2', 'dynamic', '10.0.0.0/24', '%any'),
  // Numbers as charon prints them, and strings that only look like one.
  fc.constantFrom('0', '2', '00042', '4500', '123456789012345', '9007199254740993', '12345678901234567890', '123456789012345678901', '', ' 1', '1e3', '-1'),
  fc.bigInt({ min: 0n, max: 10n ** 22n }).map(String),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);
const anyKey = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.constantFrom('0', '17', '__proto__', 'constructor'));

const { unknown } = fc.letrec<{ unknown: Node }>((tie) => ({
  unknown: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text.map((kv) => ({ kv })),
    fc.array(text, { maxLength: 3 }).map((list) => ({ list })),
    fc.array(fc.tuple(anyKey, tie('unknown')), { maxLength: 3 }).map((section) => ({ section })),
  ),
}));

/** Mostly values, sometimes a list or a section where a value is expected, and the other way round. */
const field = fc.oneof(
  { arbitrary: text.map((kv): Node => ({ kv })), weight: 6 },
  { arbitrary: fc.array(text, { maxLength: 3 }).map((list): Node => ({ list })), weight: 2 },
  { arbitrary: unknown, weight: 1 },
);
const entriesOf = (keys: string[]) => fc.array(fc.tuple(fc.oneof({ arbitrary: fc.constantFrom(...keys), weight: 5 }, anyKey), field), { maxLength: 14 });

const childKey = fc.oneof(
  { arbitrary: fc.tuple(fc.constantFrom('net', 'rw', 'lan', 'a-b'), fc.nat(99)).map(([n, i]) => `${n}-${i}`), weight: 6 },
  fc.constantFrom('net', '5', 'x-'),
  anyKey,
);
const child = entriesOf(CHILD_KEYS).map((section): Node => ({ section }));
const childSas = fc.array(fc.tuple(childKey, fc.oneof({ arbitrary: child, weight: 4 }, field)), { maxLength: 3 }).map((section): Node => ({ section }));
const ikeSa = fc.tuple(entriesOf(SA_KEYS), fc.option(childSas, { nil: undefined }), fc.nat()).map(([entries, children, at]): Node => {
  const section = [...entries];
  if (children) section.splice(at % (section.length + 1), 0, ['child-sas', children]);
  return { section };
});
// Mostly names as charon sends them; now and then one a JS object reorders, or a repeat.
const connName = fc.oneof({ arbitrary: fc.constantFrom('rw-eap', 'site-1', 'net', '__proto__'), weight: 6 }, fc.constantFrom('0', '17', 'net'), anyKey);
const event = fc.array(fc.tuple(connName, fc.oneof({ arbitrary: ikeSa, weight: 5 }, field)), { minLength: 0, maxLength: 3 }).map(serialize);

/** Encoded charon-shaped events, damaged: truncated, a byte changed, bytes spliced in. */
const damaged = fc
  .tuple(
    fc.nat(9999).map((i) => encode(listSaEvent(i, i % 2 === 0 ? 'hub' : 'concentrator'))),
    fc.array(fc.tuple(fc.constantFrom('truncate', 'set', 'splice'), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 })), { minLength: 1, maxLength: 3 }),
  )
  .map(([bytes, ops]) =>
    ops.reduce((b, [op, n, data]) => {
      const at = n % (b.length + 1);
      if (op === 'truncate') return b.subarray(0, at);
      if (op === 'set') {
        const copy = Buffer.from(b);
        if (at < copy.length) copy[at] = data[0]!;
        return copy;
      }
      return Buffer.concat([b.subarray(0, at), Buffer.from(data), b.subarray(at)]);
    }, bytes),
  );

describe('list-sa events decoded from their bytes', () => {
  it('read charon-shaped events without the generic path, into the same records', () => {
    for (let i = 0; i < 400; i++) {
      for (const mix of ['hub', 'concentrator'] as const) {
        const body = encode(listSaEvent(i, mix));
        const records = readListSaEvent(body);
        assert.ok(records, `event ${i} (${mix}) read from its bytes`);
        assert.deepStrictEqual(records, parseListSaEvent(decode(body)));
      }
    }
  });

  it('equal the generic path on generated events: unknown keys and sections, odd shapes, repeats, digit keys', () => {
    let read = 0;
    let total = 0;
    fc.assert(
      fc.property(event, (body) => {
        total++;
        if (readListSaEvent(body) !== undefined) read++;
        assert.deepStrictEqual(fast(body), generic(body));
      }),
      { numRuns: 3000 },
    );
    // The comparison is worth something only if most events took the fast path.
    assert.ok(read > total * 0.5, `${read} of ${total} read from their bytes`);
  });

  it('equal the generic path on damaged events: the same records or the same ProtocolError, nothing else thrown', () => {
    fc.assert(
      fc.property(damaged, (body) => {
        const got = fast(body) as { error?: string };
        assert.deepStrictEqual(got, generic(body));
        if (got.error !== undefined) assert.equal(got.error, ProtocolError.name);
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const body = Buffer.from(bytes);
        assert.deepStrictEqual(fast(body), generic(body));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the last of a repeated field and the order a JS object gives repeated or digit-named conns', () => {
    const sa = (id: string): Node => ({ section: [['uniqueid', { kv: id }]] });
    const cases: Entry[][] = [
      [
        ['b', sa('1')],
        ['17', sa('2')],
        ['a', sa('3')],
      ],
      [
        ['a', sa('1')],
        ['b', sa('2')],
        ['a', sa('3')],
      ],
      [
        ['a', sa('1')],
        ['a', { kv: 'no longer a section' }],
      ],
      [
        [
          'rw',
          {
            section: [
              ['state', { kv: 'CONNECTING' }],
              ['uniqueid', { kv: '4' }],
              ['state', { kv: 'ESTABLISHED' }],
              ['state', { list: [] }],
            ],
          },
        ],
      ],
    ];
    const got = cases.map((c) => decodeListSaEvent(serialize(c)).map((s) => [s.conn, s.uniqueId, s.state]));
    assert.deepEqual(got, [
      [
        ['17', '2', 'UNKNOWN'],
        ['b', '1', 'UNKNOWN'],
        ['a', '3', 'UNKNOWN'],
      ],
      [
        ['a', '3', 'UNKNOWN'],
        ['b', '2', 'UNKNOWN'],
      ],
      [],
      [['rw', '4', 'UNKNOWN']],
    ]);
  });

  it('skips strongSwan 6 keys and nested unknown sections; a truncated event is a ProtocolError', () => {
    const msg = toMessage({
      gw: toMessage({
        uniqueid: '9',
        state: 'ESTABLISHED',
        'if-id-in': '00000000',
        'ike-ke': ['KE1_MLKEM_768'],
        future: toMessage({ deeper: toMessage({ list: ['x'], value: 'y' }) }),
        'remote-id': 'gw.example.org',
        'child-sas': toMessage({ 'net-3': toMessage({ name: 'net', state: 'INSTALLED', 'per-cpu': toMessage({ cpu: '1' }), 'bytes-in': '77' }) }),
      }),
    });
    const body = encode(msg);
    const [sa] = readListSaEvent(body) ?? [];
    assert.deepEqual(
      [sa?.uniqueId, sa?.state, sa?.remoteId, sa?.children[0]?.name, sa?.children[0]?.traffic.bytesIn],
      ['9', 'ESTABLISHED', 'gw.example.org', 'net', 77],
    );
    for (let cut = 1; cut < body.length; cut++) {
      assert.throws(() => decodeListSaEvent(body.subarray(0, cut)), ProtocolError, `cut at ${cut}`);
    }
  });
});

/**
 * A gateway that answers the prober's pipeline (version, stats, list-sas, list-conns) with fixed
 * bytes, list-sa events given as raw message bodies.
 */
async function gatewayWithEvents(bodies: Buffer[]): Promise<{ port: number; closed: Promise<void>; close(): void }> {
  const event = (body: Buffer) => {
    const name = Buffer.from('list-sa');
    const head = Buffer.alloc(6);
    head.writeUInt32BE(2 + name.length + body.length, 0);
    head[4] = EVENT;
    head[5] = name.length;
    return Buffer.concat([head, name, body]);
  };
  const answer = Buffer.concat([
    encodePacket({ type: CMD_RESPONSE, message: versionResponse() }),
    encodePacket({ type: CMD_RESPONSE, message: statsResponse(bodies.length) }),
    encodePacket({ type: EVENT_CONFIRM }),
    ...bodies.map(event),
    encodePacket({ type: CMD_RESPONSE, message: toMessage({}) }),
    encodePacket({ type: EVENT_CONFIRM }),
    encodePacket({ type: EVENT_CONFIRM }),
    encodePacket({ type: CMD_RESPONSE, message: toMessage({}) }),
    encodePacket({ type: EVENT_CONFIRM }),
  ]);
  let closed!: () => void;
  const done = new Promise<void>((resolve) => (closed = resolve));
  const server = net.createServer((socket) => {
    socket.once('data', () => socket.write(answer));
    socket.on('error', () => {});
    socket.on('close', closed);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, closed: done, close: () => server.close() };
}

describe('list-sa events through the prober', () => {
  const probe = (port: number) =>
    fetchViciSnapshot((signal) => ViciClient.connect({ host: '127.0.0.1', port, signal, log: silentProbeLog }), {
      pools: false,
      certificates: false,
      signal: AbortSignal.timeout(10_000),
      log: silentProbeLog,
    });

  it('reads events with keys it does not know', async () => {
    const odd = encode(toMessage({ gw: toMessage({ uniqueid: '1', state: 'ESTABLISHED', 'remote-id': 'peer', extra: toMessage({ x: ['1'] }) }) }));
    const gw = await gatewayWithEvents([encode(listSaEvent(0)), odd]);
    try {
      const snap = await probe(gw.port);
      assert.deepEqual(
        snap.sessions.map((s) => s.user),
        ['gw-0.example', 'peer'],
      );
    } finally {
      gw.close();
    }
  });

  it('fails with a clear error on a truncated event, and closes the connection', async () => {
    const body = encode(listSaEvent(1));
    const gw = await gatewayWithEvents([encode(listSaEvent(0)), body.subarray(0, body.length - 7)]);
    try {
      await assert.rejects(probe(gw.port), (err) => err instanceof ProtocolError && /malformed VICI message/.test(err.message));
      await gw.closed;
    } finally {
      gw.close();
    }
  });
});

describe('list-sa records of many SAs', () => {
  it('share one list for a repeated traffic selector or virtual IP, and that list cannot be changed', () => {
    // Events 1 and 5 of the concentrator mix: two road warriors with the same local selector.
    const [a, b] = [1, 5].map((i) => decodeListSaEvent(encode(listSaEvent(i, 'concentrator')))[0]!);
    const [ca, cb] = [a!.children[0]!, b!.children[0]!];
    assert.deepEqual(ca.localTs, ['10.1.0.0/24']);
    assert.equal(ca.localTs, cb.localTs, 'one list for the selector every SA has');
    assert.notDeepEqual(a!.virtualIps, b!.virtualIps);
    assert.throws(() => ca.localTs.push('10.9.0.0/24'), TypeError);
    assert.deepEqual(cb.localTs, ['10.1.0.0/24']);
  });
});
