import type { MetricSet } from '../../exposition/metric-set.js';
import type { GatewaySnapshot, StrongswanChildSa, StrongswanIkeSa } from '../../model/snapshot.js';
import { counter, gauge, setKnown, type Family } from '../../exposition/family.js';
import { Column, Counts, Rows } from '../../exposition/rows.js';

/**
 * strongSwan detail beyond the core family: per conn and child, aggregated over
 * SAs, since SPIs and unique ids must not become labels.
 */
/** IKE_SA and CHILD_SA detail: written at `detail: sas` only. */
const SAS = { level: 'sas' } as const;

export function addStrongswanFamilies(set: MetricSet, snapshot: GatewaySnapshot): void {
  const d = snapshot.strongswan;
  if (!d) return;
  const st = d.stats;
  if (st?.ikeSasTotal !== undefined) gauge(set, 'strongswan_ike_sas', 'IKE_SAs the daemon holds.', []).set({}, st.ikeSasTotal);
  if (st?.ikeSasHalfOpen !== undefined) gauge(set, 'strongswan_ike_sas_half_open', 'IKE_SAs being set up.', []).set({}, st.ikeSasHalfOpen);
  if (st?.workers) {
    const w = gauge(set, 'strongswan_worker_threads', 'Worker threads by state (idle, or the priority of the job they run).', ['state']);
    w.set({ state: 'idle' }, st.workers.idle);
    for (const [prio, n] of Object.entries(st.workers.active)) w.set({ state: prio }, n);
  }
  if (st?.queues) {
    const q = gauge(set, 'strongswan_queued_jobs', 'Jobs waiting for a worker, by priority.', ['priority']);
    for (const [prio, n] of Object.entries(st.queues)) q.set({ priority: prio }, n);
  }
  if (st?.scheduled !== undefined) gauge(set, 'strongswan_scheduled_jobs', 'Jobs scheduled for later.', []).set({}, st.scheduled);

  if (snapshot.shunts && snapshot.shunts.length > 0) {
    const info = gauge(set, 'strongswan_shunt_info', 'A configured PASS or DROP policy (a conn child that is not a tunnel); the value is always 1.', [
      'conn',
      'child',
      'mode',
    ]);
    const installed = gauge(
      set,
      'strongswan_shunt_installed',
      'Whether charon reports the shunt policy as installed (stroke only: its "Shunted Connections").',
      ['conn', 'child'],
    );
    for (const sh of snapshot.shunts) {
      info.set({ conn: sh.conn, child: sh.name, mode: sh.mode }, 1);
      if (sh.installed !== undefined) installed.set({ conn: sh.conn, child: sh.name }, sh.installed ? 1 : 0);
    }
  }

  addSaFamilies(set, d.ikeSas);
}

/**
 * The per-conn and per-child families, all from one pass over the SAs (see Rows). Each
 * family's series come in the order its label values first appear among the SAs.
 */
function addSaFamilies(set: MetricSet, ikeSas: readonly StrongswanIkeSa[]): void {
  // Indexed loops: run once per probe, much of a loop runs unoptimized, where for...of
  // makes an iterator result per item.
  const n = ikeSas.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += (ikeSas[i] as StrongswanIkeSa).children.length;
  const conns = new Rows(n);
  // (conn, version, state) as two levels: the version under its conn, the state under that.
  const versions = new Rows(n, n);
  const ikeStates = new Rows(n, n);
  const ikeCounts = new Counts(n);
  const established = Column.max(n);
  const ikeRekeys = Column.min(n);
  const reauths = Column.min(n);
  const childNames = new Rows(m, n);
  const childStates = new Rows(m, m);
  const childCounts = new Counts(m);
  const rxBytes = Column.sum(m);
  const txBytes = Column.sum(m);
  const rxPackets = Column.sum(m);
  const txPackets = Column.sum(m);
  const childRekeys = Column.min(m);
  const lives = Column.min(m);
  const installs = Column.max(m);
  for (let i = 0; i < n; i++) {
    const sa = ikeSas[i] as StrongswanIkeSa;
    const conn = conns.row(0, sa.conn);
    const state = ikeStates.row(versions.row(conn, String(sa.version)), sa.state);
    ikeCounts.add(state);
    established.add(conn, sa.establishedSeconds);
    ikeRekeys.add(conn, sa.rekeySeconds);
    reauths.add(conn, sa.reauthSeconds);
    for (let k = 0; k < sa.children.length; k++) {
      const c = sa.children[k] as StrongswanChildSa;
      const child = childNames.row(conn, c.name);
      const childState = childStates.row(child, c.state);
      childCounts.add(childState);
      rxBytes.add(child, c.traffic.bytesIn);
      txBytes.add(child, c.traffic.bytesOut);
      rxPackets.add(child, c.traffic.packetsIn);
      txPackets.add(child, c.traffic.packetsOut);
      childRekeys.add(child, c.rekeySeconds);
      lives.add(child, c.lifeSeconds);
      installs.add(child, c.installSeconds);
    }
  }

  // One labels object per family, refilled for each series: a hub writes 80,000 of them.
  const ikeCount = gauge(set, 'strongswan_ike_sas_by_conn', 'IKE_SAs by conn, IKE version and state.', ['conn', 'version', 'state'], SAS);
  writeStateCounts(ikeCount, 'version', conns, versions, ikeStates, ikeCounts);
  const connLabels = { conn: '' };
  const perConn = (family: Family<'conn'>, values: Column) => {
    for (let r = 0; r < conns.size; r++) {
      connLabels.conn = conns.names[r] as string;
      setKnown(family, connLabels, values.get(r));
    }
  };
  perConn(gauge(set, 'strongswan_ike_sa_established_seconds', 'Age of the oldest IKE_SA of a conn.', ['conn'], SAS), established);
  perConn(gauge(set, 'strongswan_ike_sa_rekey_seconds', 'Seconds until the next IKE_SA rekey of a conn (the soonest).', ['conn'], SAS), ikeRekeys);
  perConn(gauge(set, 'strongswan_ike_sa_reauth_seconds', 'Seconds until the next IKE_SA reauthentication of a conn (the soonest).', ['conn'], SAS), reauths);

  const childCount = gauge(set, 'strongswan_child_sas', 'CHILD_SAs by conn, child and state.', ['conn', 'child', 'state'], SAS);
  writeStateCounts(childCount, 'child', conns, childNames, childStates, childCounts);
  const childLabels = { conn: '', child: '' };
  const perChild = (family: Family<'conn' | 'child'>, values: Column) => {
    for (let r = 0; r < childNames.size; r++) {
      childLabels.conn = conns.names[childNames.parents[r] as number] as string;
      childLabels.child = childNames.names[r] as string;
      setKnown(family, childLabels, values.get(r));
    }
  };
  perChild(
    counter(
      set,
      'strongswan_child_sa_receive_bytes_total',
      "Bytes received by the CHILD_SAs of a conn's child (resets when an SA is rekeyed).",
      ['conn', 'child'],
      SAS,
    ),
    rxBytes,
  );
  perChild(
    counter(
      set,
      'strongswan_child_sa_transmit_bytes_total',
      "Bytes sent by the CHILD_SAs of a conn's child (resets when an SA is rekeyed).",
      ['conn', 'child'],
      SAS,
    ),
    txBytes,
  );
  perChild(
    counter(set, 'strongswan_child_sa_receive_packets_total', "Packets received by the CHILD_SAs of a conn's child.", ['conn', 'child'], SAS),
    rxPackets,
  );
  perChild(counter(set, 'strongswan_child_sa_transmit_packets_total', "Packets sent by the CHILD_SAs of a conn's child.", ['conn', 'child'], SAS), txPackets);
  perChild(
    gauge(set, 'strongswan_child_sa_rekey_seconds', "Seconds until the next CHILD_SA rekey of a conn's child (the soonest).", ['conn', 'child'], SAS),
    childRekeys,
  );
  perChild(
    gauge(set, 'strongswan_child_sa_lifetime_seconds', "Seconds until a CHILD_SA of a conn's child expires (the soonest).", ['conn', 'child'], SAS),
    lives,
  );
  perChild(gauge(set, 'strongswan_child_sa_installed_seconds', "Age of the oldest CHILD_SA of a conn's child.", ['conn', 'child'], SAS), installs);
}

/**
 * One series per state row: labelled by the conn, the middle row it sits under (an IKE
 * version, a child name) and the state, valued by its count. One labels object, refilled.
 */
function writeStateCounts<M extends string>(family: Family<'conn' | M | 'state'>, middle: M, conns: Rows, middles: Rows, states: Rows, counts: Counts): void {
  const labels = { conn: '', [middle]: '', state: '' } as Record<'conn' | M | 'state', string>;
  for (let r = 0; r < states.size; r++) {
    const m = states.parents[r] as number;
    labels.conn = conns.names[middles.parents[m] as number] as string;
    labels[middle] = middles.names[m] as string;
    labels.state = states.names[r] as string;
    family.set(labels, counts.get(r));
  }
}
