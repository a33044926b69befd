import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { LineConnection } from '../../../src/transport/lines.js';
import { AbortedError, SizeLimitError } from '../../../src/util/errors.js';

const live = () => new AbortController().signal;
const limits = { maxLineBytes: 32, maxTotalBytes: 256 };

describe('LineConnection', () => {
  it('splits CR LF and LF lines across chunks, and returns a prompt left without a line end', async () => {
    const peer = new PassThrough();
    const conn = new LineConnection(peer, 'peer', limits);
    peer.write('>INFO:hel');
    peer.write('lo\r\nsecond\nENTER PASS');
    assert.equal(await conn.readLine(live()), '>INFO:hello');
    assert.equal(await conn.readLine(live()), 'second');
    const prompt = conn.readLine(live(), 'ENTER PASSWORD:');
    peer.write('WORD:');
    assert.equal(await prompt, 'ENTER PASSWORD:');
  });

  it('keeps lines that arrived before the peer closed, then says it closed', async () => {
    const peer = new PassThrough();
    const conn = new LineConnection(peer, 'peer', limits);
    peer.end('last\r\nhalf');
    assert.equal(await conn.readLine(live()), 'last');
    await assert.rejects(conn.readLine(live()), /connection closed by peer in the middle of a line/);
  });

  it('a line that never ends and a peer that sends too much fail with SizeLimitError and destroy the stream', async () => {
    const long = new PassThrough();
    const a = new LineConnection(long, 'peer', limits);
    long.write('x'.repeat(40));
    await assert.rejects(a.readLine(live()), (e) => e instanceof SizeLimitError && /longer than 32/.test(e.message));
    assert.equal(long.destroyed, true);
    const flood = new PassThrough();
    const b = new LineConnection(flood, 'peer', limits);
    for (let i = 0; i < 30; i++) flood.write('0123456789\n');
    await assert.rejects(
      (async () => {
        for (;;) await b.readLine(live());
      })(),
      (e) => e instanceof SizeLimitError && /more than 256 bytes/.test(e.message),
    );
  });

  it('an abort ends the wait with its reason and destroys the stream', async () => {
    const peer = new PassThrough();
    const conn = new LineConnection(peer, 'peer', limits);
    const ctl = new AbortController();
    const pending = conn.readLine(ctl.signal);
    ctl.abort(new AbortedError('gone'));
    await assert.rejects(pending, /gone/);
    assert.equal(peer.destroyed, true);
  });

  it('close() sends the farewell and ends the stream', async () => {
    const peer = new PassThrough();
    const conn = new LineConnection(peer, 'peer', limits);
    let written = '';
    peer.on('data', (d: Buffer) => (written += d.toString()));
    conn.close('quit\n');
    await new Promise((r) => setImmediate(r));
    assert.equal(written, 'quit\n');
    await assert.rejects(conn.readLine(live()), /was closed/);
  });
});
