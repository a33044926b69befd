import { z } from 'zod';
import { parseSystemInfo } from './system-info.js';
import { parseVpnFlow } from './vpn-flow.js';
import { buildPaloaltoSnapshot } from './snapshot.js';
import { DEFAULT_SETUP, PanosCliSession } from './cli-session.js';
import { sshEndpoint, sshOptionsSchema, sshRequiresAllowList } from '../../config/ssh-block.js';
import type { ProberDefinition } from '../../probe/prober.js';
import { addPaloaltoFamilies } from './metrics.js';

const optionsSchema = z.strictObject({
  ssh: sshOptionsSchema,
  /** Sent after the first prompt; refusals are logged and the pager is paged through instead. */
  setup_commands: z.array(z.string().regex(/^set cli [a-z -]+( \d+)?$/, 'only "set cli ..." commands')).max(4).default(DEFAULT_SETUP),
  max_output_bytes: z.number().int().min(4096).max(64 << 20).default(4 << 20),
});

/** Wide enough that PAN-OS never wraps a `show vpn flow` row, even with long tunnel names. */
const TERMINAL_COLUMNS = 400;

/**
 * PAN-OS over its interactive CLI (it offers no exec): a shell on the pooled SSH
 * connection, `show system info` and `show vpn flow`, the tunnel states SNMP gets wrong.
 */
export const paloaltoSsh: ProberDefinition<typeof optionsSchema> = {
  name: 'paloalto-ssh',
  defaultPort: 22,
  addVendorFamilies: addPaloaltoFamilies,
  optionsSchema,
  credentials: 'ssh',
  requiresAllowList: sshRequiresAllowList,
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
      log.debug('parsed', { tunnels: flow.tunnels.length, ha_state: cli.prompt.haState });
      cli.close();
      return buildPaloaltoSnapshot(system, flow, cli.prompt.haState);
    } finally {
      shell.close();
    }
  },
};
