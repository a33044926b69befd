import { z } from 'zod';
import { durationMs } from '../../config/duration.js';
import { parseOpenvpnStatus, type OpenvpnStatus } from './status.js';
import { buildOpenvpnSnapshot, type OpenvpnStatusRead } from './snapshot.js';
import { ParseError, ProbeError, commandFailure } from '../../util/errors.js';
import { TtlCache } from '../../util/ttl-cache.js';
import { runSections, shellQuote, type RemoteSection } from '../../transport/ssh/sections.js';
import { SSH_PROBER, commandPrefix, commandPrefixSchema, maxOutputBytesSchema, sshEndpoint, sshOptionsSchema } from '../../config/ssh-block.js';
import type { ProberDefinition } from '../../probe/prober.js';
import { addOpenvpnFamilies } from './metrics.js';
import { collectOpenvpnPki, openvpnPkiOptions, openvpnPkiSections, pkiConfigFiles } from './pki.js';

const statusFileSchema = z.strictObject({
  /** The label people see (udp, tcp, ...): the tunnel name in metrics. */
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'letters, digits, "_", "." and "-" (at most 32)'),
  path: z.string().regex(/^\/[^\0\n]{0,1023}$/, 'an absolute path'),
});

const optionsSchema = z.strictObject({
  ssh: sshOptionsSchema,
  command_prefix: commandPrefixSchema,
  status_files: z
    .array(statusFileSchema)
    .min(1)
    .max(16)
    .refine((files) => new Set(files.map((f) => f.name)).size === files.length, 'status file names must be unique'),
  /** A dead OpenVPN leaves a file that looks alive: older than this fails the probe. */
  max_status_age: durationMs.default(180_000),
  /** Bound on everything the gateway sends back for one probe. */
  max_output_bytes: maxOutputBytesSchema,
  ...openvpnPkiOptions,
});

/**
 * `openvpn --version` rarely changes; asking once an hour per target saves a process spawn
 * per probe. A failed lookup is cached as '' so it is not retried (and logged) every probe.
 */
const versions = new TtlCache<string>(3_600_000, 10_000);

function parseVersion(text: string): string | undefined {
  return /^OpenVPN (\d+\.\d+[\w.-]*)/m.exec(text)?.[1];
}

/**
 * OpenVPN servers over SSH: every status file, the gateway's clock and host name
 * (and the version when not cached) in one exec on a pooled connection.
 */
export const openvpnSsh: ProberDefinition<typeof optionsSchema> = {
  name: 'openvpn-ssh',
  ...SSH_PROBER,
  addVendorFamilies: addOpenvpnFamilies,
  optionsSchema,
  async probe({ target, options, signal, log, services }) {
    const prefix = commandPrefix(options.command_prefix);
    const versionKey = `${target.host}:${target.port}`;
    const cachedVersion = versions.get(versionKey);
    const sections: RemoteSection[] = [
      { id: 'now', command: 'date +%s' },
      { id: 'hostname', command: 'uname -n' },
      ...options.status_files.map((f, i) => ({ id: `file${i}`, command: `${prefix}cat -- ${shellQuote(f.path)}` })),
    ];
    const configFiles = pkiConfigFiles(options);
    sections.push(...openvpnPkiSections(configFiles, prefix));
    if (cachedVersion === undefined) sections.push({ id: 'version', command: `${prefix}openvpn --version` });
    const endpoint = sshEndpoint(target, options.ssh);
    const results = await runSections(services.ssh, endpoint, sections, {
      signal,
      log,
      maxOutputBytes: options.max_output_bytes,
    });

    const nowSeconds = Number(results.get('now')?.output.trim());
    if (!Number.isFinite(nowSeconds)) throw new ProbeError('the gateway did not tell its time (date +%s)');
    let version = cachedVersion || undefined;
    const versionResult = results.get('version');
    if (versionResult) {
      version = parseVersion(versionResult.output);
      versions.set(versionKey, version ?? '');
      if (!version) log.warn('openvpn --version gave no version', { exit_code: versionResult.exitCode });
    }

    const reads: OpenvpnStatusRead[] = [];
    for (const [i, f] of options.status_files.entries()) {
      const r = results.get(`file${i}`);
      if (r?.exitCode !== 0) {
        const output = (r?.output ?? '').trim().slice(0, 200);
        throw new ProbeError(`status file ${f.name} (${f.path}) unreadable: ${output || 'no output'}`, { kind: commandFailure(output) });
      }
      let status: OpenvpnStatus;
      try {
        status = parseOpenvpnStatus(r.output);
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
        // OpenVPN rewrites the file in place (seek, write, truncate): a read can catch old and
        // new lines spliced together. One more read almost always sees a whole file.
        log.warn('status file did not parse; reading it again', { file: f.name, reason: err.message });
        const again = await runSections(services.ssh, endpoint, [{ id: 'file', command: `${prefix}cat -- ${shellQuote(f.path)}` }], {
          signal,
          log,
          maxOutputBytes: options.max_output_bytes,
        });
        status = parseOpenvpnStatus(again.get('file')?.output ?? '');
      }
      const ageSeconds = status.updated !== undefined ? Math.max(0, nowSeconds - status.updated) : undefined;
      log.debug('status file read', { file: f.name, format: status.format, bytes: r.output.length, age_seconds: ageSeconds });
      if (ageSeconds === undefined) throw new ProbeError(`status file ${f.name} (${f.path}) has no update time`);
      if (ageSeconds * 1000 > options.max_status_age) {
        throw new ProbeError(
          `status file ${f.name} (${f.path}) is stale: last written ${ageSeconds}s ago, max_status_age is ${options.max_status_age / 1000}s (is OpenVPN running?)`,
          { kind: 'stale_data' },
        );
      }
      reads.push({ name: f.name, path: f.path, status, ageSeconds });
    }
    const hostname = results.get('hostname')?.output.trim() || undefined;
    const pki = configFiles.length > 0 ? collectOpenvpnPki(configFiles, results, log) : undefined;
    return buildOpenvpnSnapshot({ reads, nowSeconds, version, hostname, ...(pki ? { pki } : {}) });
  },
};
