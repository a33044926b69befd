import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFlags } from '../../../src/cli/flags.js';
import { ProbeHistory, type NewProbeRecord } from '../../../src/probe/history.js';

function probe(target: string, success: boolean): NewProbeRecord {
  return {
    startedAt: Date.now(),
    module: 'm',
    prober: 'strongswan-vici-tcp',
    target,
    success,
    durationSeconds: 0.01,
    failure: success ? undefined : 'connection refused',
    source: 'fetched',
    series: 2,
    log: { entries: [], dropped: 0 },
  };
}

test('ids grow, get finds a probe, list is newest first', () => {
  const h = new ProbeHistory(10);
  const a = h.add(probe('a', true));
  const b = h.add(probe('b', false));
  assert.equal(b.id, a.id + 1);
  assert.equal(h.get(a.id)?.target, 'a');
  assert.equal(h.get(999), undefined);
  assert.deepEqual(
    h.list().map((r) => r.target),
    ['b', 'a'],
  );
});

test('when full, the oldest success is dropped before any failure', () => {
  const h = new ProbeHistory(3);
  h.add(probe('fail-1', false));
  h.add(probe('ok-1', true));
  h.add(probe('ok-2', true));
  h.add(probe('fail-2', false));
  assert.deepEqual(
    h.list().map((r) => r.target),
    ['fail-2', 'ok-2', 'fail-1'],
  );
  h.add(probe('fail-3', false));
  assert.deepEqual(
    h.list().map((r) => r.target),
    ['fail-3', 'fail-2', 'fail-1'],
  );
  // Only failures left: the oldest of them goes, and a new success still gets in.
  h.add(probe('ok-3', true));
  assert.deepEqual(
    h.list().map((r) => r.target),
    ['ok-3', 'fail-3', 'fail-2'],
  );
  assert.equal(h.list().length, 3);
});

test('list filters by a case-insensitive part of the target', () => {
  const h = new ProbeHistory(10);
  h.add(probe('VPN-1.example.net:4502', true));
  h.add(probe('vpn-2.example.net', false));
  h.add(probe('192.0.2.1', true));
  assert.deepEqual(
    h.list('vpn').map((r) => r.target),
    ['vpn-2.example.net', 'VPN-1.example.net:4502'],
  );
  assert.deepEqual(
    h.list(':4502').map((r) => r.target),
    ['VPN-1.example.net:4502'],
  );
  assert.equal(h.list('').length, 3);
  assert.deepEqual(h.list('nowhere'), []);
});

test('the limit is a positive whole number, from --history.limit (default 100)', () => {
  assert.throws(() => new ProbeHistory(0), RangeError);
  assert.throws(() => new ProbeHistory(1.5), RangeError);
  const d = parseFlags([]);
  assert.ok(typeof d === 'object');
  assert.equal(d.historyLimit, 100);
  const f = parseFlags(['--history.limit=7']);
  assert.ok(typeof f === 'object');
  assert.equal(f.historyLimit, 7);
  for (const bad of ['0', '-1', '2.5', 'many']) {
    assert.throws(() => parseFlags([`--history.limit=${bad}`]), /--history\.limit must be a whole number/, bad);
  }
});
