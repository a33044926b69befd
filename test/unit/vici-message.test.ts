import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decode, encode, newMessage, toMessage, type ViciMessage } from '../../src/transport/vici/message.js';
import { ProtocolError } from '../../src/util/errors.js';
import { getPoolsResponse, listConnEvents, listSaEvents, statsResponse } from '../support/charon-shapes.js';

/** Builds raw element bytes by hand, so tests do not depend on the encoder under test. */
function elements(...parts: (number | string)[]): Buffer {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === 'number') out.push(part);
    else out.push(...Buffer.from(part, 'utf8'));
  }
  return Buffer.from(out);
}
const kv = (key: string, value: string) => {
  const k = Buffer.from(key);
  const v = Buffer.from(value);
  return Buffer.concat([Buffer.from([3, k.length]), k, Buffer.from([v.length >> 8, v.length & 0xff]), v]);
};

function malformedAt(reason: RegExp, offset: number) {
  return (err: unknown) => err instanceof ProtocolError && reason.test(err.message) && err.message.endsWith(`at byte ${offset}`);
}

const keyArb = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((k) => Buffer.byteLength(k) <= 255);
const valueArb = fc.string({ unit: 'grapheme', maxLength: 40 });
const { message: messageArb } = fc.letrec<{ message: ViciMessage }>((tie) => ({
  message: fc
    .dictionary(keyArb, fc.oneof({ depthSize: 'small' }, valueArb, fc.array(valueArb, { maxLength: 4 }), tie('message')), {
      maxKeys: 6,
      noNullPrototype: false,
    })
    .map((d) => toMessage(d as Record<string, ViciMessage>)),
}));

describe('VICI message encode/decode', () => {
  it('round-trips charon-shaped messages', () => {
    for (const msg of [...listSaEvents(12), ...listConnEvents(4), getPoolsResponse(2, 5), statsResponse(3)]) {
      assert.deepEqual(decode(encode(msg)), msg);
    }
  });

  it('decodes hand-built bytes: sections, lists, empty values, UTF-8', () => {
    const bytes = Buffer.concat([
      kv('a', 'ü€'),
      elements(1, 1, 's', 4, 1, 'l', 5, 0, 1, 'x', 5, 0, 0, 6, 1, 0, 4, 1, 'e', 6, 2, 2),
      kv('', ''),
    ]);
    const msg = decode(bytes);
    assert.deepEqual(Object.keys(msg), ['a', 's', '']);
    assert.equal(msg.a, 'ü€');
    assert.deepEqual(msg.s, toMessage({ l: ['x', ''], '': toMessage({ e: [] }) }));
    assert.equal(msg[''], '');
    assert.equal(decode(Buffer.alloc(0)) !== undefined, true);
  });

  it('replaces invalid UTF-8 rather than failing', () => {
    const msg = decode(Buffer.from([3, 1, 0x6b, 0, 2, 0xc3, 0x28]));
    assert.equal(msg.k, '\ufffd(');
  });

  it('keeps hostile keys as plain data on null-prototype objects', () => {
    const bytes = Buffer.concat([elements(1, 9, '__proto__'), kv('polluted', 'yes'), elements(2), kv('constructor', 'x')]);
    const msg = decode(bytes);
    assert.equal(Object.getPrototypeOf(msg), null);
    assert.equal(Object.getPrototypeOf(msg.__proto__), null);
    assert.deepEqual(Object.keys(msg), ['__proto__', 'constructor']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(decode(encode(msg)), msg);
  });

  it('lets a duplicate key replace the earlier value in its place', () => {
    const msg = decode(Buffer.concat([kv('a', '1'), kv('b', '2'), kv('a', '3')]));
    assert.deepEqual(Object.entries(msg), [
      ['a', '3'],
      ['b', '2'],
    ]);
  });

  it('rejects each kind of malformed element with its offset', () => {
    const cases: [Buffer, RegExp, number][] = [
      [elements(9), /unknown element type 9/, 0],
      [Buffer.concat([kv('a', 'b'), elements(0)]), /unknown element type 0/, 6],
      [elements(3, 5, 'ab'), /name of 5 bytes runs past the end/, 0],
      [elements(3), /truncated name length/, 0],
      [elements(3, 1, 'a', 0), /truncated value length/, 0],
      [elements(3, 1, 'a', 0, 9, 'x'), /value of 9 bytes runs past the end/, 0],
      [elements(1, 1, 's'), /1 unterminated section/, 3],
      [elements(2), /section end at top level/, 0],
      [elements(5, 0, 0), /list item outside a list/, 0],
      [elements(6), /list end outside a list/, 0],
      [elements(4, 1, 'l', 5, 0, 0), /unterminated list/, 6],
      [elements(4, 1, 'l', 1, 1, 's'), /element type 1 inside a list/, 3],
      [elements(4, 1, 'l', 2), /section end inside a list/, 3],
    ];
    for (const [bytes, reason, offset] of cases) assert.throws(() => decode(bytes), malformedAt(reason, offset), reason.source);
  });

  it('refuses to encode keys and values too long for the wire', () => {
    assert.throws(() => encode(toMessage({ ['k'.repeat(256)]: 'v' })), ProtocolError);
    assert.throws(() => encode(toMessage({ k: 'v'.repeat(65_536) })), ProtocolError);
    assert.throws(() => encode(toMessage({ k: ['v'.repeat(65_536)] })), ProtocolError);
    assert.equal(encode(toMessage({ ['k'.repeat(255)]: 'v'.repeat(65_535) })).length, 2 + 255 + 2 + 65_535);
  });

  it('round-trips arbitrary messages (fast-check)', (t) => {
    let runs = 0;
    fc.assert(
      fc.property(messageArb, (msg) => {
        runs++;
        assert.deepEqual(decode(encode(msg)), msg);
      }),
      { numRuns: 500 },
    );
    t.diagnostic(`${runs} arbitrary messages round-tripped`);
  });

  it('meets arbitrary bytes with a message or a ProtocolError only (fast-check)', (t) => {
    let runs = 0;
    let decoded = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
        runs++;
        try {
          decode(Buffer.from(raw));
          decoded++;
        } catch (err) {
          assert.ok(err instanceof ProtocolError, String(err));
        }
      }),
      { numRuns: 5000 },
    );
    t.diagnostic(`${runs} arbitrary byte strings, ${decoded} of them valid`);
  });

  it('decodes 10,000 list-sa events without quadratic cost', (t) => {
    const bodies = listSaEvents(10_000).map(encode);
    const bytes = bodies.reduce((n, b) => n + b.length, 0);
    for (const body of bodies.slice(0, 200)) decode(body);
    const started = performance.now();
    for (const body of bodies) decode(body);
    const ms = performance.now() - started;
    t.diagnostic(`decoded 10,000 SAs (${(bytes / 1e6).toFixed(1)} MB) in ${ms.toFixed(1)} ms`);
    // Generous for a loaded 2-core machine; it catches per-byte allocation or quadratic
    // concatenation (seconds), not the ~60 ms this normally takes.
    assert.ok(ms < 1000, `took ${ms} ms`);
  });

  it('builds an empty message with no prototype', () => {
    assert.equal(Object.getPrototypeOf(newMessage()), null);
    assert.equal(encode(newMessage()).length, 0);
  });
});
