import { z } from 'zod';
import { durationMs } from '../../config/duration.js';
import { CONFIG_FILTER_AWK, CONFIG_MARK, WG_FIELDS, WG_KEY, cleanPeerName, parseWgConfigNames, parseWgShowAll, type WgField } from './show.js';
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
 * The commands of one probe. Never `wg show all dump` or `private-key`: those print the
 * interface's private key. The config files pass through CONFIG_FILTER_AWK on the gateway,
 * so no PrivateKey or PresharedKey line is sent either.
 */
export function wireguardSections(options: { command_prefix: string; read_config: boolean; config_dir: string }): RemoteSection[] {
  const prefix = commandPrefix(options.command_prefix);
  const sections: RemoteSection[] = [
    { id: 'now', command: 'date +%s' },
    { id: 'hostname', command: 'uname -n' },
    { id: 'version', command: 'wg --version' },
    ...WG_FIELDS.map((f) => ({ id: f, command: `${prefix}wg show all ${f}` })),
  ];
  if (options.read_config) {
    const dir = shellQuote(options.config_dir.replace(/\/+$/, '') || '/');
    sections.push({
      id: 'config',
      command:
        `for i in $(${prefix}wg show interfaces); do printf '${CONFIG_MARK}%s\\n' "$i"; ` +
        `${prefix}cat -- ${dir}/"$i".conf 2>/dev/null | awk ${shellQuote(CONFIG_FILTER_AWK)}; done`,
    });
  }
  return sections;
}

/**
 * WireGuard over SSH: every interface and peer from `wg show all <field>` (the private-key
 * free forms), names from the module or the config files, the gateway's clock, all in one exec.
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
    const nowSeconds = Number(results.get('now')?.output.trim());
    if (!Number.isFinite(nowSeconds) || nowSeconds <= 0) throw new ProbeError('the gateway did not tell its time (date +%s)');

    const out = {} as Record<WgField, string>;
    for (const f of WG_FIELDS) {
      const r = results.get(f);
      if (r?.exitCode !== 0) {
        throw new ProbeError(`wg show all ${f} failed (exit ${r?.exitCode ?? '?'}): ${(r?.output ?? '').trim().slice(0, 200) || 'no output'}`);
      }
      out[f] = r.output;
    }
    const shown = parseWgShowAll(out);
    if (shown.skippedLines > 0) log.debug('wg show lines of an unknown form skipped', { lines: shown.skippedLines });

    const config = results.get('config');
    const configNames = config ? parseWgConfigNames(config.output) : new Map<string, Map<string, string>>();
    if (config) {
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
