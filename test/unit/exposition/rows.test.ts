import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { groupBy, key, max, min, sum } from '../../../src/exposition/family.js';
import { buildProbeMetrics } from '../../../src/exposition/probe-metrics.js';
import { Column, Counts, Rows } from '../../../src/exposition/rows.js';
import type { StrongswanIkeSa } from '../../../src/model/snapshot.js';
import { addStrongswanFamilies } from '../../../src/vendors/strongswan/metrics.js';
import { buildStrongswanSnapshot } from '../../../src/vendors/strongswan/snapshot.js';

// Few distinct names, so groups repeat; more than Rows scans before it switches to a Map.
const name = fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `n${i}`), '', 'ü', 'a"b');
const value = fc.option(fc.oneof(fc.integer({ min: -5, max: 1e6 }), fc.constantFrom(0.5, -0, Number.NaN)), { nil: undefined });

test('Rows and Columns group as groupBy with joined keys and fold as sum, min and max do', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ a: name, b: name, v: value }), { maxLength: 300 }), (items) => {
      const top = new Rows(items.length);
      const rows = new Rows(items.length, items.length);
      const counts = new Counts(items.length);
      const sums = Column.sum(items.length);
      const mins = Column.min(items.length);
      const maxes = Column.max(items.length);
      for (const { a, b, v } of items) {
        const r = rows.row(top.row(0, a), b);
        counts.add(r);
        sums.add(r, v);
        mins.add(r, v);
        maxes.add(r, v);
      }
      const groups = [...groupBy(items, (i) => key(i.a, i.b)).values()];
      assert.equal(rows.size, groups.length);
      groups.forEach((g, r) => {
        assert.equal(top.names[rows.parents[r] as number], g[0]?.a);
        assert.equal(rows.names[r], g[0]?.b);
        assert.equal(counts.get(r), g.length);
        assert.deepEqual([sums.get(r), mins.get(r), maxes.get(r)], [sum(g, (i) => i.v), min(g, (i) => i.v), max(g, (i) => i.v)]);
      });
    }),
    { numRuns: 300 },
  );
});

function sa(conn: string, state: string, child: string, childState: string): StrongswanIkeSa {
  return {
    conn,
    uniqueId: '1',
    version: 2,
    state,
    virtualIps: [],
    children: [{ name: child, uniqueId: '2', state: childState, traffic: { bytesIn: 1, bytesOut: 2 }, localTs: [], remoteTs: [] }],
  };
}

test('strongSwan families list their series in the order the label values first appear among the SAs', () => {
  const snapshot = buildStrongswanSnapshot({
    info: { product: 'charon' },
    conns: [],
    ikeSas: [sa('b', 'ESTABLISHED', 'net', 'INSTALLED'), sa('a', 'ESTABLISHED', 'x', 'INSTALLED'), sa('b', 'CONNECTING', 'net', 'REKEYED')],
    pools: [],
  });
  const text = buildProbeMetrics({ success: true, durationSeconds: 0.1, snapshot }, addStrongswanFamilies).render();
  const series = (family: string) => text.split('\n').filter((l) => l.startsWith(`${family}{`));
  assert.deepEqual(series('strongswan_ike_sas_by_conn'), [
    'strongswan_ike_sas_by_conn{conn="b",version="2",state="ESTABLISHED"} 1',
    'strongswan_ike_sas_by_conn{conn="a",version="2",state="ESTABLISHED"} 1',
    'strongswan_ike_sas_by_conn{conn="b",version="2",state="CONNECTING"} 1',
  ]);
  assert.deepEqual(series('strongswan_child_sas'), [
    'strongswan_child_sas{conn="b",child="net",state="INSTALLED"} 1',
    'strongswan_child_sas{conn="a",child="x",state="INSTALLED"} 1',
    'strongswan_child_sas{conn="b",child="net",state="REKEYED"} 1',
  ]);
  assert.deepEqual(series('strongswan_child_sa_receive_bytes_total'), [
    'strongswan_child_sa_receive_bytes_total{conn="b",child="net"} 2',
    'strongswan_child_sa_receive_bytes_total{conn="a",child="x"} 1',
  ]);
});
