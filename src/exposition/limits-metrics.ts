import { Gauge, type Registry } from 'prom-client';
import type { ProbeLimits } from '../probe/limits.js';

/** The probe caps' queue on /metrics, read at scrape time. */
export function registerLimitsMetrics(registry: Registry, limits: ProbeLimits): void {
  new Gauge({
    name: 'vpn_exporter_probes_queued',
    help: 'Probes waiting for a slot under --probe.max-per-target or --probe.max-concurrency.',
    registers: [registry],
    collect() {
      this.set(limits.stats().queued);
    },
  });
}
