import { z } from 'zod';
import { parseSystemInfo } from './system-info.js';
import { parseVpnFlow } from './vpn-flow.js';
import { buildPaloaltoSnapshot } from './snapshot.js';
import { CliRefusal, DEFAULT_SETUP, PanosCliSession } from './cli-session.js';
import { meansNoGlobalProtect, parseGpCurrentUsers, parseGpStatistics } from './global-protect.js';
import { parseHaState } from './high-availability.js';
import { parseIkeSa, parseIpsecSa } from './sa.js';
import type { ProbeLog } from '../../log/probe-log.js';
import { SSH_PROBER, sshEndpoint, sshOptionsSchema } from '../../config/ssh-block.js';
import type { ProberDefinition } from '../../probe/prober.js';
import { addPaloaltoFamilies } from './metrics.js';
import { optionalCommand, panosDetailOptions, panosMaxBytes } from './optional.js';

const optionsSchema = z.strictObject({
  ssh: sshOptionsSchema,
  /** Sent after the first prompt; refusals are logged and the pager is paged through instead. */
  setup_commands: z
    .array(z.string().regex(/^set cli [a-z -]+( \d+)?$/, 'only "set cli ..." commands'))
    .max(4)
    .default(DEFAULT_SETUP),
  max_output_bytes: panosMaxBytes,
  ...panosDetailOptions,
});

/** A CLI command whose answer only adds detail (see optionalCommand). */
function optional<T>(
  cli: PanosCliSession,
  command: string,
  parse: (text: string) => T,
  ctx: { signal: AbortSignal; log: ProbeLog; commands: Record<string, boolean>; empty?: (cliError: string) => T | undefined },
): Promise<T | undefined> {
  return optionalCommand(command, async () => parse(await cli.run(command, ctx.signal)), {
    ...ctx,
    refusal: (err) => (err instanceof CliRefusal ? err.cliError : undefined),
  });
}

/** Wide enough that PAN-OS never wraps a `show vpn flow` row, even with long tunnel names. */
const TERMINAL_COLUMNS = 400;

/**
 * PAN-OS over its interactive CLI (it offers no exec): a shell on the pooled SSH
 * connection, `show system info` and `show vpn flow` (the tunnel states SNMP gets wrong),
 * then, each optional and none able to fail the probe, HA state, IKE/IPsec SAs and
 * GlobalProtect users.
 */
export const paloaltoSsh: ProberDefinition<typeof optionsSchema> = {
  name: 'paloalto-ssh',
  ...SSH_PROBER,
  addVendorFamilies: addPaloaltoFamilies,
  optionsSchema,
  async probe({ target, options, signal, log, services }) {
    const shell = await services.ssh.openShell(sshEndpoint(target, options.ssh), {
      signal,
      log,
      maxOutputBytes: options.max_output_bytes,
      cols: TERMINAL_COLUMNS,
      rows: 50,
    });
    try {
      const cli = await PanosCliSession.open(shell, { signal, log, setup: options.setup_commands });
      const system = parseSystemInfo(await cli.run('show system info', signal));
      const flow = parseVpnFlow(await cli.run('show vpn flow', signal));
      system.hostname ??= cli.prompt.host;
      const commands: Record<string, boolean> = {};
      const ctx = { signal, log, commands };
      const ha = options.high_availability ? await optional(cli, 'show high-availability state', parseHaState, ctx) : undefined;
      const ikeSas = options.sa_detail ? await optional(cli, 'show vpn ike-sa', parseIkeSa, ctx) : undefined;
      const ipsecSas = options.sa_detail ? await optional(cli, 'show vpn ipsec-sa', parseIpsecSa, ctx) : undefined;
      const gpCtx = { ...ctx, empty: (e: string) => (meansNoGlobalProtect(e) ? [] : undefined) };
      const gpUsers = options.globalprotect ? await optional(cli, 'show global-protect-gateway current-user', parseGpCurrentUsers, gpCtx) : undefined;
      const gpStats = options.globalprotect
        ? await optional(cli, 'show global-protect-gateway statistics', parseGpStatistics, {
            ...ctx,
            empty: (e: string) => (meansNoGlobalProtect(e) ? { gateways: [] } : undefined),
          })
        : undefined;
      log.debug('parsed', {
        tunnels: flow.tunnels.length,
        skipped_lines: flow.skippedLines,
        unknown_columns: flow.unknownColumns.join(','),
        ha_state: cli.prompt.haState,
        gp_users: gpUsers?.length,
      });
      cli.close();
      return buildPaloaltoSnapshot({
        system,
        flow,
        promptHaState: cli.prompt.haState,
        ha,
        ikeSas,
        ipsecSas,
        gpUsers,
        gpStats,
        commands,
        nowMs: Date.now(),
      });
    } finally {
      shell.close();
    }
  },
};
