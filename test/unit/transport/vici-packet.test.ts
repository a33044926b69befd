import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toMessage } from '../../../src/transport/vici/message.js';
import { ViciFramer, decodePacket, encodePacket, type Packet } from '../../../src/transport/vici/packet.js';
import {
  CMD_REQUEST,
  CMD_RESPONSE,
  CMD_UNKNOWN,
  EVENT,
  EVENT_CONFIRM,
  EVENT_REGISTER,
  EVENT_UNKNOWN,
  EVENT_UNREGISTER,
} from '../../../src/transport/vici/wire.js';
import { ProtocolError, SizeLimitError } from '../../../src/util/errors.js';
import { listSaEvent, versionResponse } from '../../support/charon-shapes.js';

const samples: Packet[] = [
  { type: CMD_REQUEST, name: 'get-pools', message: toMessage({ leases: 'yes' }) },
  { type: CMD_RESPONSE, message: versionResponse() },
  { type: CMD_UNKNOWN },
  { type: EVENT_REGISTER, name: 'list-sa' },
  { type: EVENT_UNREGISTER, name: 'list-sa' },
  { type: EVENT_CONFIRM },
  { type: EVENT_UNKNOWN },
  { type: EVENT, name: 'list-sa', message: listSaEvent(1) },
];

const stream = Buffer.concat(samples.map(encodePacket));

function onlyExpectedErrors(run: () => unknown): 'ok' | 'error' {
  try {
    run();
    return 'ok';
  } catch (err) {
    if (err instanceof ProtocolError || err instanceof SizeLimitError) return 'error';
    throw err;
  }
}

describe('VICI packets', () => {
  it('encodes the wire layout: u32 BE length, type, u8 name for named types', () => {
    assert.deepEqual(encodePacket({ type: EVENT_REGISTER, name: 'ab' }), Buffer.from([0, 0, 0, 4, 3, 2, 0x61, 0x62]));
    assert.deepEqual(encodePacket({ type: EVENT_CONFIRM }), Buffer.from([0, 0, 0, 1, 5]));
    assert.deepEqual(encodePacket({ type: CMD_REQUEST, name: 'x' }), Buffer.from([0, 0, 0, 3, 0, 1, 0x78]));
  });

  it('round-trips every packet type', () => {
    for (const packet of samples) {
      const decoded = decodePacket(encodePacket(packet).subarray(4));
      assert.deepEqual(decoded, packet);
    }
  });

  it('rejects malformed segments', () => {
    assert.throws(() => decodePacket(Buffer.alloc(0)), /empty segment/);
    assert.throws(
      () => decodePacket(Buffer.from([8])),
      (e) => e instanceof ProtocolError && /unknown packet type 8/.test(e.message),
    );
    assert.throws(() => decodePacket(Buffer.from([EVENT, 5, 0x61])), /name of 5 bytes runs past the end/);
    assert.throws(() => decodePacket(Buffer.from([EVENT_REGISTER])), /truncated name length/);
    assert.throws(() => decodePacket(Buffer.from([EVENT_CONFIRM, 0])), /1 trailing bytes after type 5/);
  });

  it('reassembles packets from chunks split at every byte', () => {
    for (let cut = 1; cut < stream.length; cut += 7) {
      const framer = new ViciFramer();
      const got = [...framer.push(stream.subarray(0, cut)), ...framer.push(stream.subarray(cut))];
      assert.equal(got.length, samples.length);
      assert.equal(framer.pendingBytes, 0);
    }
    const framer = new ViciFramer();
    const got: Packet[] = [];
    for (const byte of stream) got.push(...framer.push(Buffer.from([byte])));
    assert.deepEqual(
      got.map((p) => p.type),
      samples.map((p) => p.type),
    );
    assert.deepEqual(got[7]?.message, listSaEvent(1));
  });

  it('refuses an oversized segment as soon as the header is complete', () => {
    const framer = new ViciFramer();
    assert.deepEqual(framer.push(Buffer.from([0xff, 0xff, 0xff])), []);
    assert.throws(
      () => framer.push(Buffer.from([0xff])),
      (e) => e instanceof SizeLimitError && /4294967295 bytes, over the limit of 524288/.test(e.message),
    );
    const small = new ViciFramer(100);
    assert.deepEqual(small.push(Buffer.from([0, 0, 0, 100, CMD_RESPONSE])), []);
    assert.throws(() => new ViciFramer(100).push(Buffer.from([0, 0, 0, 101])), SizeLimitError);
    assert.throws(() => new ViciFramer().push(Buffer.from([0, 0, 0, 0])), /zero-length segment/);
  });

  it('holds only the segment in progress', () => {
    const framer = new ViciFramer();
    const big = encodePacket({ type: CMD_RESPONSE, message: toMessage({ v: 'x'.repeat(60_000) }) });
    assert.deepEqual(framer.push(big.subarray(0, 1000)), []);
    assert.equal(framer.pendingBytes, 1000);
    assert.equal(framer.push(big.subarray(1000)).length, 1);
    assert.equal(framer.pendingBytes, 0);
  });

  it('reassembles under arbitrary chunking (fast-check)', (t) => {
    let runs = 0;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 12 }), (cuts) => {
        runs++;
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const framer = new ViciFramer();
        const got: Packet[] = [];
        let from = 0;
        for (const to of [...points, stream.length]) {
          got.push(...framer.push(stream.subarray(from, to)));
          from = to;
        }
        assert.deepEqual(
          got,
          samples.map((p) => decodePacket(encodePacket(p).subarray(4))),
        );
      }),
      { numRuns: 300 },
    );
    t.diagnostic(`${runs} chunkings`);
  });

  it('meets arbitrary bytes with packets, ProtocolError or SizeLimitError only (fast-check)', (t) => {
    let runs = 0;
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 48 }), { maxLength: 4 }), (chunks) => {
        runs++;
        const framer = new ViciFramer(4096);
        onlyExpectedErrors(() => {
          for (const c of chunks) framer.push(Buffer.from(c));
        });
        onlyExpectedErrors(() => decodePacket(Buffer.concat(chunks)));
      }),
      { numRuns: 5000 },
    );
    t.diagnostic(`${runs} arbitrary byte sequences`);
  });

  it('survives every truncation and single-byte mutation of valid packets', (t) => {
    let cases = 0;
    let rejected = 0;
    for (const packet of samples) {
      const whole = encodePacket(packet);
      for (let len = 0; len < whole.length; len++) {
        cases++;
        // Truncated segments are never complete, so the framer must just wait.
        assert.deepEqual(new ViciFramer().push(whole.subarray(0, len)), []);
        if (len > 4 && onlyExpectedErrors(() => decodePacket(whole.subarray(4, len))) === 'error') rejected++;
      }
      const mutated = Buffer.from(whole);
      for (let at = 0; at < whole.length; at++) {
        for (const value of [0, 1, 2, 3, 4, 5, 6, 7, 0x80, 0xff, whole[at]! ^ 0x01]) {
          cases++;
          mutated[at] = value;
          if (onlyExpectedErrors(() => new ViciFramer().push(mutated)) === 'error') rejected++;
        }
        mutated[at] = whole[at]!;
      }
    }
    t.diagnostic(`${cases} truncations and mutations, ${rejected} rejected with ProtocolError/SizeLimitError`);
  });
});
