import type { z } from 'zod';
import type { ProberSchema } from '../config/config.js';
import type { MetricSet } from '../exposition/metric-set.js';
import type { ProbeLog } from '../log/probe-log.js';
import type { GatewaySnapshot } from '../model/snapshot.js';
import type { HttpsTransport } from '../transport/https/types.js';
import type { SshTransport } from '../transport/ssh/types.js';

/** Where a probe goes: parsed from `?target=`. */
export interface Target {
  host: string;
  port: number;
  /** As the caller wrote it: the `instance` people recognise. */
  raw: string;
}

/** Long-lived resources shared by every probe; created once at start-up. */
export interface Services {
  ssh: SshTransport;
  /** Kept-alive HTTPS connections per target and credentials. */
  https: HttpsTransport;
}

export interface ProbeContext<Options> {
  target: Target;
  /** The module's prober options, validated and with secrets resolved. */
  options: Options;
  /** Fires when the probe's deadline passes or its HTTP client disconnects. */
  signal: AbortSignal;
  log: ProbeLog;
  /** Long-lived shared resources (the SSH connection pool, HTTPS clients). */
  services: Services;
}

/**
 * One prober per protocol, in the style of blackbox_exporter's prober/: the options
 * schema the config loader validates against (ProberSchema), one function from context
 * to snapshot, and the vendor's metric families that sit beside the core family.
 * A probe fails by throwing, preferably a ProbeError with a reason for people.
 */
export interface ProberDefinition<Schema extends z.ZodType = z.ZodType> extends ProberSchema<Schema> {
  probe(ctx: ProbeContext<z.output<Schema>>): Promise<GatewaySnapshot>;
  /** Adds the vendor's own families (strongswan_…, openvpn_…) for a successful probe. */
  addVendorFamilies(set: MetricSet, snapshot: GatewaySnapshot): void;
}
