import type { z } from 'zod';
import type { ProbeLog } from '../log/probe-log.js';
import type { GatewaySnapshot } from '../model/snapshot.js';
import type { Target } from './target.js';
import type { Services } from './services.js';

export interface ProbeContext<Options> {
  target: Target;
  /** The module's prober options, validated and with secrets resolved. */
  options: Options;
  /** Fires when the probe's deadline passes or its HTTP client disconnects. */
  signal: AbortSignal;
  log: ProbeLog;
  /** Long-lived shared resources (the SSH connection pool). */
  services: Services;
}

/**
 * One prober per protocol, in the style of blackbox_exporter's prober/:
 * a schema for its module options and one function from context to snapshot.
 * A probe fails by throwing (preferably a ProbeError with a reason for people).
 */
export interface ProberDefinition<Schema extends z.ZodType = z.ZodType> {
  name: string;
  defaultPort: number;
  optionsSchema: Schema;
  probe(ctx: ProbeContext<z.output<Schema>>): Promise<GatewaySnapshot>;
  /**
   * Why these options make the module unsafe to point at arbitrary targets (so the
   * configuration must name allowed_targets), or undefined.
   */
  requiresAllowList?(options: z.output<Schema>): string | undefined;
}
