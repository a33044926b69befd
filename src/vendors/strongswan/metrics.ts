import type { MetricSet } from '../../exposition/metric-set.js';
import type { GatewaySnapshot, StrongswanChildSa, StrongswanIkeSa } from '../../model/snapshot.js';
import { counter, gauge, groupBy, key, max, min, setKnown, sum } from '../../exposition/family.js';

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

  const ikeCount = gauge(set, 'strongswan_ike_sas_by_conn', 'IKE_SAs by conn, IKE version and state.', ['conn', 'version', 'state'], SAS);
  const ikeEstablished = gauge(set, 'strongswan_ike_sa_established_seconds', 'Age of the oldest IKE_SA of a conn.', ['conn'], SAS);
  const ikeRekey = gauge(set, 'strongswan_ike_sa_rekey_seconds', 'Seconds until the next IKE_SA rekey of a conn (the soonest).', ['conn'], SAS);
  const ikeReauth = gauge(set, 'strongswan_ike_sa_reauth_seconds', 'Seconds until the next IKE_SA reauthentication of a conn (the soonest).', ['conn'], SAS);
  for (const group of groupBy(d.ikeSas, (sa) => key(sa.conn, String(sa.version), sa.state)).values()) {
    const f = group[0] as StrongswanIkeSa;
    ikeCount.set({ conn: f.conn, version: String(f.version), state: f.state }, group.length);
  }
  for (const [conn, group] of groupBy(d.ikeSas, (sa) => sa.conn)) {
    setKnown(
      ikeEstablished,
      { conn },
      max(group, (sa) => sa.establishedSeconds),
    );
    setKnown(
      ikeRekey,
      { conn },
      min(group, (sa) => sa.rekeySeconds),
    );
    setKnown(
      ikeReauth,
      { conn },
      min(group, (sa) => sa.reauthSeconds),
    );
  }

  const children: { conn: string; child: StrongswanChildSa }[] = [];
  for (const sa of d.ikeSas) for (const child of sa.children) children.push({ conn: sa.conn, child });
  const childCount = gauge(set, 'strongswan_child_sas', 'CHILD_SAs by conn, child and state.', ['conn', 'child', 'state'], SAS);
  for (const group of groupBy(children, (c) => key(c.conn, c.child.name, c.child.state)).values()) {
    const f = group[0] as (typeof children)[number];
    childCount.set({ conn: f.conn, child: f.child.name, state: f.child.state }, group.length);
  }
  const rx = counter(
    set,
    'strongswan_child_sa_receive_bytes_total',
    "Bytes received by the CHILD_SAs of a conn's child (resets when an SA is rekeyed).",
    ['conn', 'child'],
    SAS,
  );
  const tx = counter(
    set,
    'strongswan_child_sa_transmit_bytes_total',
    "Bytes sent by the CHILD_SAs of a conn's child (resets when an SA is rekeyed).",
    ['conn', 'child'],
    SAS,
  );
  const rxp = counter(set, 'strongswan_child_sa_receive_packets_total', "Packets received by the CHILD_SAs of a conn's child.", ['conn', 'child'], SAS);
  const txp = counter(set, 'strongswan_child_sa_transmit_packets_total', "Packets sent by the CHILD_SAs of a conn's child.", ['conn', 'child'], SAS);
  const rekey = gauge(
    set,
    'strongswan_child_sa_rekey_seconds',
    "Seconds until the next CHILD_SA rekey of a conn's child (the soonest).",
    ['conn', 'child'],
    SAS,
  );
  const life = gauge(set, 'strongswan_child_sa_lifetime_seconds', "Seconds until a CHILD_SA of a conn's child expires (the soonest).", ['conn', 'child'], SAS);
  const installed = gauge(set, 'strongswan_child_sa_installed_seconds', "Age of the oldest CHILD_SA of a conn's child.", ['conn', 'child'], SAS);
  for (const group of groupBy(children, (c) => key(c.conn, c.child.name)).values()) {
    const f = group[0] as (typeof children)[number];
    const labels = { conn: f.conn, child: f.child.name };
    setKnown(
      rx,
      labels,
      sum(group, (c) => c.child.traffic.bytesIn),
    );
    setKnown(
      tx,
      labels,
      sum(group, (c) => c.child.traffic.bytesOut),
    );
    setKnown(
      rxp,
      labels,
      sum(group, (c) => c.child.traffic.packetsIn),
    );
    setKnown(
      txp,
      labels,
      sum(group, (c) => c.child.traffic.packetsOut),
    );
    setKnown(
      rekey,
      labels,
      min(group, (c) => c.child.rekeySeconds),
    );
    setKnown(
      life,
      labels,
      min(group, (c) => c.child.lifeSeconds),
    );
    setKnown(
      installed,
      labels,
      max(group, (c) => c.child.installSeconds),
    );
  }
}
