import { z } from 'zod';
import { durationMs } from '../../config/duration.js';
import { DUMP_FILTER_AWK, WG_KEY, cleanPeerName, dumpClock, parseWgConfigNames, parseWgDump } from './show.js';
import { buildWireguardSnapshot } from './snapshot.js';
import { ProbeError } from '../../util/errors.js';
import { runSections, shellQuote, type RemoteSection } from '../../transport/ssh/sections.js';
import { SSH_PROBER, commandPrefix, commandPrefixSchema, maxOutputBytesSchema, sshEndpoint, sshOptionsSchema } from '../../config/ssh-block.js';
import type { ProberDefinition } from '../../probe/prober.js';
import { addWireguardFamilies } from './metrics.js';

const optionsSchema = z.strictObject({
  ssh: sshOptionsSchema,
  command_prefix: commandPrefixSchema,
  /** A peer whose latest handshake is younger than this is connected (a live session). */
  connected_within: durationMs.default(180_000),
  /** Public key -> name; wins over the config files' comments. */
  peer_names: z.record(z.string().regex(WG_KEY, 'a WireGuard public key (44 characters of base64)'), z.string().min(1).max(64)).default({}),
  /** Read `# Name =` comments from <config_dir>/<interface>.conf (filtered on the gateway). */
  read_config: z.boolean().default(true),
  config_dir: z
    .string()
    .regex(/^\/[^\0\n]{0,1023}$/, 'an absolute path')
    .default('/etc/wireguard'),
  /** Bound on everything the gateway sends back for one probe. */
  max_output_bytes: maxOutputBytesSchema,
});

/**
 * The commands of one probe, in one exec. `wg show all dump` prints the interface's private key
 * and the peers' preshared keys, so its stdout reaches us only through DUMP_FILTER_AWK on the
 * gateway; wg's stderr, which holds no key, comes as is. The same awk then reads the config
 * files for names (CONFIG_FILTER_AWK's rules), through `<prefix> cat` when there is a prefix.
 */
export function wireguardSections(options: { command_prefix: string; read_config: boolean; config_dir: string }): RemoteSection[] {
  const prefix = commandPrefix(options.command_prefix);
  const dir = options.read_config ? shellQuote(options.config_dir.replace(/\/+$/, '') || '/') : "''";
  return [
    // The shell's own read where Linux has the file: one process fewer than uname.
    { id: 'hostname', command: 'read -r h 2>/dev/null </proc/sys/kernel/hostname && printf "%s\\n" "$h" || uname -n' },
    { id: 'version', command: 'wg --version' },
    {
      id: 'dump',
      command:
        `{ ${prefix}wg show all dump </dev/null; printf '\\n%s\\n' "$?"; } | ` +
        `VPNX_WG_DIR=${dir} VPNX_WG_PREFIX=${shellQuote(options.command_prefix.trim())} awk ${shellQuote(DUMP_FILTER_AWK)}`,
    },
  ];
}

/**
 * WireGuard over SSH: every interface and peer from `wg show all dump` filtered on the gateway,
 * names from the module or the config files, the gateway's clock, all in one exec.
 */
export const wireguardSsh: ProberDefinition<typeof optionsSchema> = {
  name: 'wireguard-ssh',
  ...SSH_PROBER,
  addVendorFamilies: addWireguardFamilies,
  optionsSchema,
  async probe({ target, options, signal, log, services }) {
    const sections = wireguardSections(options);
    const results = await runSections(services.ssh, sshEndpoint(target, options.ssh), sections, {
      signal,
      log,
      maxOutputBytes: options.max_output_bytes,
    });

    const dump = results.get('dump');
    if (dump?.exitCode !== 0) {
      // wg's stderr and the filter's `?` lines: never a key. Bounded, without the @ lines (clock, interface list).
      const said = (dump?.output ?? '').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('@'));
      throw new ProbeError(`wg show all dump failed (exit ${dump?.exitCode ?? '?'}): ${said.join(' ').slice(0, 200) || 'no output'}`);
    }
    const nowSeconds = dumpClock(dump.output);
    if (nowSeconds === undefined) throw new ProbeError("the gateway did not tell its time (awk's srand())");
    // The config files' filtered text follows the dump, from the first CONFIG_MARK line on.
    const configAt = dump.output.search(/^@@ /m);
    const shown = parseWgDump(configAt < 0 ? dump.output : dump.output.slice(0, configAt));
    if (shown.skippedLines > 0) log.debug('wg show lines of an unknown form skipped', { lines: shown.skippedLines });

    const configNames = parseWgConfigNames(configAt < 0 ? '' : dump.output.slice(configAt));
    if (options.read_config) {
      for (const i of shown.interfaces) {
        if (!configNames.get(i.name)?.size && i.peers.length > 0) {
          log.debug('no peer names from the config file', { interface: i.name, dir: options.config_dir });
        }
      }
    }
    const moduleNames: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.peer_names)) {
      const name = cleanPeerName(v);
      if (name) moduleNames[k] = name;
    }
    const version = /wireguard-tools v(\S+)/.exec(results.get('version')?.output ?? '')?.[1];
    return buildWireguardSnapshot({
      interfaces: shown.interfaces,
      configNames,
      moduleNames,
      nowSeconds,
      connectedWithinSeconds: options.connected_within / 1000,
      version,
      hostname: results.get('hostname')?.output.trim() || undefined,
    });
  },
};
