import { z } from 'zod';
import { durationMs } from '../../config/duration.js';
import { randomBytes } from 'node:crypto';
import { CONFIG_FILTER_AWK, DUMP_FILTER_AWK, IFACES_MARK, WG_KEY, cleanPeerName, dumpClock, parseWgConfigNames, parseWgDump } from './show.js';
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
 * and the peers' preshared keys, so its output reaches us only through DUMP_FILTER_AWK on the
 * gateway (inside a command substitution: wg's stdout goes nowhere else); wg's stderr, which
 * holds no key, comes as is. The config files pass through CONFIG_FILTER_AWK, one awk for all:
 * it opens them itself, or, with a command prefix (the files are root's), reads what
 * `<prefix> cat` gives it per interface. `token` marks the files' starts then (random per probe).
 */
export function wireguardSections(
  options: { command_prefix: string; read_config: boolean; config_dir: string },
  token = randomBytes(9).toString('hex'),
): RemoteSection[] {
  const prefix = commandPrefix(options.command_prefix);
  const sections: RemoteSection[] = [
    // The shell's own read where Linux has the file: one process fewer than uname.
    { id: 'hostname', command: 'read -r h 2>/dev/null </proc/sys/kernel/hostname && printf "%s\\n" "$h" || uname -n' },
    { id: 'version', command: 'wg --version' },
    {
      id: 'dump',
      command:
        `d=$({ ${prefix}wg show all dump </dev/null; printf '\\n%s\\n' "$?"; } | awk ${shellQuote(DUMP_FILTER_AWK)}); s=$?; ` +
        `printf '%s\\n' "$d"; case $d in *${IFACES_MARK}*) w=\${d##*${IFACES_MARK}};; *) w=;; esac; (exit $s)`,
    },
  ];
  if (options.read_config) {
    const dir = shellQuote(options.config_dir.replace(/\/+$/, '') || '/');
    const awk = shellQuote(CONFIG_FILTER_AWK);
    sections.push({
      id: 'config',
      // $w holds interface names DUMP_FILTER_AWK checked ([A-Za-z0-9_=+.-]): no quoting or glob issue.
      command: prefix
        ? `for i in $w; do printf '@@ %s %s\\n' ${token} "$i"; ${prefix}cat -- ${dir}/"$i".conf </dev/null 2>/dev/null; done | awk -v t=${token} ${awk}`
        : `set --; for i in $w; do [ -r ${dir}/"$i".conf ] && set -- "$@" ${dir}/"$i".conf; done; [ $# = 0 ] || awk -v t= ${awk} "$@" </dev/null`,
    });
  }
  return sections;
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
    const shown = parseWgDump(dump.output);
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
