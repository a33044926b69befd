import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decode, encode, newMessage, toMessage, type ViciMessage } from '../../../src/transport/vici/message.js';
import { ProtocolError } from '../../../src/util/errors.js';
import { getPoolsResponse, listConnEvents, listSaEvents, statsResponse } from '../../support/charon-shapes.js';

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
    const bytes = Buffer.concat([kv('a', 'ü€'), elements(1, 1, 's', 4, 1, 'l', 5, 0, 1, 'x', 5, 0, 0, 6, 1, 0, 4, 1, 'e', 6, 2, 2), kv('', '')]);
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

  it('keeps hostile keys as plain data on objects that inherit nothing', () => {
    const bytes = Buffer.concat([elements(1, 9, '__proto__'), kv('polluted', 'yes'), elements(2), kv('constructor', 'x')]);
    const msg = decode(bytes);
    assert.ok(Object.hasOwn(msg, '__proto__'));
    // biome-ignore lint/suspicious/noProto: the test is that a key named __proto__ stays a plain key.
    assert.equal((msg.__proto__ as ViciMessage).polluted, 'yes');
    assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(msg)), null);
    assert.equal((msg as Record<string, unknown>).polluted, undefined);
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

  it('round-trips 10,000 list-sa events of both SA mixes', () => {
    // Speed is measured by `npm run bench vici`; this pins that the hot path's shortcuts
    // (interned strings, fast-mode objects) change nothing in what comes out.
    for (const mix of ['concentrator', 'hub'] as const) {
      const events = listSaEvents(10_000, mix);
      for (const event of events) assert.deepEqual(decode(encode(event)), event);
    }
  });

  it('builds an empty message that inherits nothing', () => {
    const msg = newMessage();
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      assert.equal((msg as Record<string, unknown>)[name], undefined, name);
      assert.equal(name in msg, false, name);
    }
    assert.deepEqual(Object.keys(msg), []);
    assert.equal(encode(msg).length, 0);
  });
});
