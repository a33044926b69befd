import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { parseFlags } from '../../../src/cli/flags.js';
import type { GatewaySnapshot } from '../../../src/model/snapshot.js';
import { FleetStore, type FleetProbe } from '../../../src/probe/fleet.js';

// node --test does not pass --expose-gc through; the flag can still be set at run time.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const HOUR = 3_600_000;

function clock(start = Date.UTC(2026, 11, 2, 6)): { now: () => number; advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

let nextId = 1;
function probe(target: string, at: number, extra: Partial<FleetProbe> = {}): FleetProbe {
  return {
    id: nextId++,
    module: 'vici',
    prober: 'strongswan-vici-tcp',
    target,
    targetKey: target,
    startedAt: at,
    durationSeconds: 0.05,
    success: true,
    source: 'fetched',
    ...extra,
  };
}

const SNAPSHOT: GatewaySnapshot = {
  info: { vendor: 'strongswan', product: 'charon' },
  tunnels: [
    { name: 'a', kind: 'site-to-site', state: 'up', activeSessions: 1 },
    { name: 'b', kind: 'site-to-site', state: 'up', activeSessions: 1 },
    { name: 'c', kind: 'site-to-site', state: 'down', activeSessions: 0 },
    { name: 'd', kind: 'site-to-site', state: 'partial', activeSessions: 0 },
    { name: 'e', kind: 'site-to-site', state: 'standby', activeSessions: 0 },
    { name: 'f', kind: 'site-to-site', state: 'ignored', activeSessions: 0 },
    { name: 'g', kind: 'site-to-site', state: 'unknown', activeSessions: 0 },
  ],
  sessions: [
    { tunnel: 'a', user: 'alice', id: '1', state: 'ESTABLISHED', virtualAddresses: [] },
    { tunnel: 'b', user: 'bob', id: '2', state: 'ESTABLISHED', virtualAddresses: [] },
  ],
  pools: [],
  certificates: [
    { subject: 'gw', issuer: 'ca', role: 'end-entity', hasPrivateKey: true, notAfterTimestamp: 1_900_000_000 },
    { subject: 'ca', issuer: 'ca', role: 'ca', hasPrivateKey: false, notAfterTimestamp: 2_000_000_000 },
  ],
  crls: [{ issuer: 'ca', nextUpdateTimestamp: 1_800_000_000 }, { issuer: 'other' }],
};

test('a success keeps counts, never the snapshot; a failure keeps its reason and no counts', () => {
  const c = clock();
  const fleet = new FleetStore({ maxEntries: 10, now: c.now });
  fleet.record(probe('gw1', c.now(), { snapshot: SNAPSHOT, auth: 'eu' }));
  fleet.record(probe('gw2', c.now(), { success: false, failureReason: 'connection_refused', failure: `refused ${'x'.repeat(500)}` }));
  const [ok, bad] = fleet.snapshot().entries;
  assert.deepEqual(ok?.tunnels, { up: 2, down: 2, standby: 1, unknown: 1 }, 'ignored tunnels are not counted');
  assert.equal(ok?.users, 2);
  assert.equal(ok?.certificateExpiry, 1_900_000_000);
  assert.equal(ok?.crlNextUpdate, 1_800_000_000);
  assert.equal(ok?.auth, 'eu');
  assert.equal(ok?.failureReason, undefined);
  assert.ok(!JSON.stringify(ok).includes('alice'), 'no user names, no snapshot');
  assert.equal(bad?.success, false);
  assert.equal(bad?.failureReason, 'connection_refused');
  assert.equal(bad?.tunnels, undefined);
  assert.equal(bad?.users, undefined);
  assert.ok((bad?.failure?.length ?? 0) <= 200, 'the human reason is cut');
  assert.match(bad?.failure ?? '', /^refused x+…$/);
});

test('one entry per (module, target key, auth): a new probe replaces the last and moves it to the end', () => {
  const c = clock();
  const fleet = new FleetStore({ maxEntries: 10, now: c.now });
  fleet.record(probe('gw1', c.now()));
  fleet.record(probe('gw2', c.now()));
  fleet.record(probe('gw1:4502', c.now(), { targetKey: 'gw1', success: false, failureReason: 'timeout' }));
  fleet.record(probe('gw1', c.now(), { auth: 'other' }));
  fleet.record(probe('gw1', c.now(), { module: 'vici2' }));
  const entries = fleet.snapshot().entries;
  assert.equal(entries.length, 4);
  assert.deepEqual(
    entries.map((e) => `${e.module} ${e.target} ${e.auth ?? '-'} ${e.success}`),
    ['vici gw2 - true', 'vici gw1:4502 - false', 'vici gw1 other true', 'vici2 gw1 - true'],
  );
});

test('entries older than an hour expire, dropped targets too', () => {
  const c = clock();
  const fleet = new FleetStore({ maxEntries: 2, now: c.now });
  fleet.record(probe('old', c.now()));
  c.advance(30 * 60_000);
  fleet.record(probe('mid', c.now()));
  fleet.record(probe('new', c.now()));
  assert.equal(fleet.snapshot().dropped, 1, '"old" was dropped by the bound');
  c.advance(31 * 60_000);
  const s = fleet.snapshot();
  assert.deepEqual(
    s.entries.map((e) => e.target),
    ['mid', 'new'],
  );
  assert.equal(s.dropped, 0, 'a dropped target last probed over an hour ago is no longer counted');
  c.advance(30 * 60_000);
  assert.equal(fleet.snapshot().entries.length, 0);
  assert.equal(fleet.size, 0);
});

test('least recently probed goes first; a dropped target probed again is back and no longer counted as dropped', () => {
  const c = clock();
  const fleet = new FleetStore({ maxEntries: 3, now: c.now });
  for (const t of ['a', 'b', 'c']) {
    fleet.record(probe(t, c.now()));
    c.advance(1000);
  }
  fleet.record(probe('a', c.now())); // a is now the most recent
  c.advance(1000);
  fleet.record(probe('d', c.now())); // drops b, the least recently probed
  let s = fleet.snapshot();
  assert.deepEqual(
    s.entries.map((e) => e.target),
    ['c', 'a', 'd'],
  );
  assert.equal(s.dropped, 1);
  c.advance(1000);
  fleet.record(probe('b', c.now())); // b is back; c goes
  s = fleet.snapshot();
  assert.deepEqual(
    s.entries.map((e) => e.target),
    ['a', 'd', 'b'],
  );
  assert.equal(s.dropped, 1, 'c dropped, b no longer');
  assert.equal(s.droppedIsLowerBound, false);
});

test('100,000 distinct targets: the entry count stays at the bound, the dropped count is right, memory stays bounded', (t) => {
  const c = clock();
  const max = 10_000;
  const fleet = new FleetStore({ maxEntries: max, now: c.now });
  const fill = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      fleet.record(probe(`gw-${i}.vpn.example.net:4502`, c.now(), { snapshot: SNAPSHOT }));
      if (i % 100 === 0) c.advance(1);
    }
  };
  gc();
  const empty = process.memoryUsage().heapUsed;
  fill(0, max);
  gc();
  const atBound = process.memoryUsage().heapUsed;
  fill(max, 100_000);
  gc();
  const after = process.memoryUsage().heapUsed;
  const s = fleet.snapshot();
  assert.equal(fleet.size, max);
  assert.equal(s.entries.length, max);
  // 90,000 were dropped but only max of them are remembered: the count says "at least".
  assert.equal(s.dropped, max);
  assert.equal(s.droppedIsLowerBound, true);
  assert.equal(s.entries[0]?.target, 'gw-90000.vpn.example.net:4502', 'the newest max are kept');
  assert.equal(s.entries.at(-1)?.target, 'gw-99999.vpn.example.net:4502');
  const perEntry = (atBound - empty) / max;
  const growthBeyond = after - atBound;
  // Past the bound only the dropped hashes (bounded too) are added; 90,000 more entries would be 9 times the first.
  assert.ok(growthBeyond < atBound - empty, `${growthBeyond} bytes after the bound vs ${atBound - empty} for the first ${max}`);
  assert.ok(after - empty < 30 * 1024 * 1024, `${after - empty} bytes for ${max} entries and ${max} dropped hashes`);
  t.diagnostic(`fleet store: ${perEntry.toFixed(0)} B per entry; ${max} entries + ${max} dropped hashes: ${((after - empty) / 1024 / 1024).toFixed(1)} MiB`);
});

test('with fewer than maxEntries dropped, the count is exact', () => {
  const c = clock();
  const fleet = new FleetStore({ maxEntries: 100, now: c.now });
  for (let i = 0; i < 150; i++) fleet.record(probe(`t${i}`, c.now()));
  const s = fleet.snapshot();
  assert.equal(s.entries.length, 100);
  assert.equal(s.dropped, 50);
  assert.equal(s.droppedIsLowerBound, false);
  c.advance(HOUR + 1);
  assert.equal(fleet.snapshot().dropped, 0);
});

test('the bound is a positive whole number, from --fleet.max-targets (default 10000)', () => {
  assert.throws(() => new FleetStore({ maxEntries: 0 }), RangeError);
  assert.throws(() => new FleetStore({ maxEntries: 1.5 }), RangeError);
  assert.equal(parseFlags([]).fleetMaxTargets, 10_000);
  assert.equal(parseFlags(['--fleet.max-targets=25']).fleetMaxTargets, 25);
  assert.throws(() => parseFlags(['--fleet.max-targets=1000001']), /--fleet\.max-targets must be at most 1000000/);
  for (const bad of ['0', '-1', 'x', '2.5']) {
    assert.throws(() => parseFlags([`--fleet.max-targets=${bad}`]), /--fleet\.max-targets must be a whole number/, bad);
  }
});
