import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SshTransport } from '../transport/ssh/types.js';

export interface BuildInfo {
  version: string;
  revision: string;
}

/** The exporter's own metrics (`/metrics`): never the probed gateways'. */
export class SelfMetrics {
  readonly registry = new Registry();
  readonly probes: Counter<'module' | 'result'>;
  readonly probeFailures: Counter<'module' | 'reason'>;
  readonly probesShared: Counter<'module' | 'source'>;
  readonly probeDuration: Histogram<'module'>;
  readonly probeSeries: Histogram<'module'>;
  readonly inFlight: Gauge;
  readonly reloadSuccess: Gauge;
  readonly reloadTimestamp: Gauge;

  /**
   * `ssh` and `probeQueue` are read at scrape time: the pool's connections and handshakes,
   * and the probes waiting for a slot under the probe caps.
   */
  constructor(build: BuildInfo, sources: { ssh?: SshTransport; probeQueue?: () => number } = {}) {
    const { ssh, probeQueue } = sources;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'vpn_exporter_build_info',
      help: 'Build of this vpn-exporter; the value is always 1.',
      labelNames: ['version', 'revision', 'nodejs'],
      registers,
    }).set({ version: build.version, revision: build.revision, nodejs: process.version }, 1);
    this.probes = new Counter({
      name: 'vpn_exporter_probes_total',
      help: 'Probes asked for, by module and result (success, failure; rejected: a bad request; throttled: no slot under the probe caps).',
      labelNames: ['module', 'result'],
      registers,
    });
    this.probeFailures = new Counter({
      name: 'vpn_exporter_probe_failures_total',
      help: 'Failed probes, by module and reason (timeout, connection_refused, auth_failed, ...; see the README).',
      labelNames: ['module', 'reason'],
      registers,
    });
    this.probesShared = new Counter({
      name: 'vpn_exporter_probes_shared_total',
      help: 'Probes answered without a gateway fetch of their own: joined one in flight, or read a recent one (min_interval).',
      labelNames: ['module', 'source'],
      registers,
    });
    this.probeDuration = new Histogram({
      name: 'vpn_exporter_probe_duration_seconds',
      help: 'Wall time of probes, by module.',
      labelNames: ['module'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.probeSeries = new Histogram({
      name: 'vpn_exporter_probe_series',
      help: "Series (sample lines) in probes' answers, by module: what the detail level, user_labels and max_users leave.",
      labelNames: ['module'],
      buckets: [10, 100, 1_000, 10_000, 50_000, 100_000, 250_000, 500_000, 1_000_000],
      registers,
    });
    this.inFlight = new Gauge({ name: 'vpn_exporter_probes_in_flight', help: 'Probes running now.', registers });
    this.reloadSuccess = new Gauge({
      name: 'vpn_exporter_config_last_reload_successful',
      help: 'Whether the last configuration load succeeded (1) or failed and the previous configuration is still in use (0).',
      registers,
    });
    this.reloadTimestamp = new Gauge({
      name: 'vpn_exporter_config_last_reload_success_timestamp_seconds',
      help: 'Unix time of the last successful configuration load.',
      registers,
    });
    if (probeQueue) {
      new Gauge({
        name: 'vpn_exporter_probes_queued',
        help: 'Probes waiting for a slot under --probe.max-per-target or --probe.max-concurrency.',
        registers,
        collect() {
          this.set(probeQueue());
        },
      });
    }
    if (ssh) {
      new Gauge({
        name: 'vpn_exporter_ssh_connections',
        help: 'Authenticated SSH connections held in the pool.',
        registers,
        collect() {
          this.set(ssh.stats().connections);
        },
      });
      new Counter({
        name: 'vpn_exporter_ssh_handshakes_total',
        help: 'SSH handshakes performed (a probe on a pooled connection adds none).',
        registers,
        collect() {
          this.reset();
          this.inc(ssh.stats().handshakes);
        },
      });
    }
  }
}
