import { posix } from 'node:path';
import { z } from 'zod';
import { mergeIpsecConf, parseIpsecConf, type IpsecConf } from './ipsec-conf.js';
import { parseIpsecStatus } from './ipsec-status.js';
import { buildIpsecSnapshot } from './ipsec-snapshot.js';
import { parseStrokeCertificates, parseStrokeCrls } from './ipsec-certs.js';
import { ProbeError, commandFailure } from '../../util/errors.js';
import { runSections, shellQuote, type RemoteSection } from '../../transport/ssh/sections.js';
import { SSH_PROBER, commandPrefix, commandPrefixSchema, maxOutputBytesSchema, sshEndpoint, sshOptionsSchema } from '../../config/ssh-block.js';
import type { ProberDefinition } from '../../probe/prober.js';
import { addStrongswanFamilies } from './metrics.js';

const optionsSchema = z.strictObject({
  ssh: sshOptionsSchema,
  command_prefix: commandPrefixSchema,
  ipsec_conf: z
    .string()
    .regex(/^\/[^\0\n]{0,1023}$/, 'an absolute path')
    .default('/etc/ipsec.conf'),
  /** `ipsec` on most systems; `strongswan` on some distributions. */
  ipsec_command: z
    .string()
    .regex(/^[A-Za-z0-9_./-]{1,128}$/, 'a command name or path')
    .default('ipsec'),
  max_output_bytes: maxOutputBytesSchema,
  /** Read `ipsec listcerts/listcacerts/listcrls` for certificate and CRL expiry. */
  certificates: z.boolean().default(true),
});

/** Include patterns are expanded by the gateway's shell, so they may hold glob characters and nothing else. */
const SAFE_PATTERN = /^[A-Za-z0-9_./*?[\]-]{1,512}$/;
const MAX_INCLUDE_DEPTH = 4;

function includeCommand(pattern: string, prefix: string): string {
  return `for f in ${pattern}; do [ -f "$f" ] && ${prefix}cat -- "$f" && echo; done`;
}

/**
 * strongSwan's stroke interface over SSH. The first exec reads ipsec.conf and
 * `ipsec statusall` together; include files (rare, and globbed) cost one more
 * exec per level of nesting.
 */
export const ipsecSsh: ProberDefinition<typeof optionsSchema> = {
  name: 'ipsec-ssh',
  ...SSH_PROBER,
  addVendorFamilies: addStrongswanFamilies,
  optionsSchema,
  async probe({ target, options, signal, log, services }) {
    const prefix = commandPrefix(options.command_prefix);
    const endpoint = sshEndpoint(target, options.ssh);
    const run = (sections: RemoteSection[]) => runSections(services.ssh, endpoint, sections, { signal, log, maxOutputBytes: options.max_output_bytes });

    const first = await run([
      { id: 'hostname', command: 'uname -n' },
      { id: 'conf', command: `${prefix}cat -- ${shellQuote(options.ipsec_conf)}` },
      { id: 'status', command: `${prefix}${options.ipsec_command} statusall` },
      // --utc: times with their zone, not the gateway's local time.
      ...(options.certificates
        ? [
            { id: 'certs', command: `${prefix}${options.ipsec_command} listcerts --utc` },
            { id: 'cacerts', command: `${prefix}${options.ipsec_command} listcacerts --utc` },
            { id: 'crls', command: `${prefix}${options.ipsec_command} listcrls --utc` },
          ]
        : []),
    ]);
    const confRead = first.get('conf');
    if (confRead?.exitCode !== 0) {
      const output = (confRead?.output ?? '').trim().slice(0, 200);
      throw new ProbeError(`cannot read ${options.ipsec_conf}: ${output}`, { kind: commandFailure(output) });
    }
    const statusRead = first.get('status');
    // `ipsec statusall` exits 3 when charon was not started by starter, yet prints the status.
    if (!statusRead?.output.includes('Status of IKE charon daemon')) {
      throw new ProbeError(
        `${options.ipsec_command} statusall failed (exit ${statusRead?.exitCode}): ${(statusRead?.output ?? '').trim().split('\n')[0]?.slice(0, 200)}`,
        { kind: commandFailure(statusRead?.output ?? '') },
      );
    }

    const parts: IpsecConf[] = [parseIpsecConf(confRead.output)];
    let pending = parts[0]?.includes.map((p) => ({ pattern: p, from: options.ipsec_conf })) ?? [];
    for (let depth = 0; pending.length > 0; depth++) {
      if (depth >= MAX_INCLUDE_DEPTH) throw new ProbeError(`ipsec.conf includes nest deeper than ${MAX_INCLUDE_DEPTH} levels`);
      const patterns = pending.map(({ pattern, from }) => (pattern.startsWith('/') ? pattern : posix.join(posix.dirname(from), pattern)));
      for (const p of patterns)
        if (!SAFE_PATTERN.test(p)) throw new ProbeError(`ipsec.conf include ${JSON.stringify(p)} has characters this prober will not pass to a shell`);
      const reads = await run(patterns.map((p, i) => ({ id: `inc${i}`, command: includeCommand(p, prefix) })));
      pending = [];
      patterns.forEach((p, i) => {
        const conf = parseIpsecConf(reads.get(`inc${i}`)?.output ?? '');
        parts.push(conf);
        pending.push(...conf.includes.map((pattern) => ({ pattern, from: p })));
      });
      log.debug('includes read', { patterns: patterns.length, depth: depth + 1 });
    }
    const conf = mergeIpsecConf(parts);
    const status = parseIpsecStatus(statusRead.output);
    log.debug('parsed', { conns: conf.conns.length, ike_sas: status.ikeSas.length });
    // A stroke without list commands (or a failed one) leaves the certificates out, not the probe.
    const listed = (id: string) => {
      const r = first.get(id);
      return r && r.exitCode === 0 ? r.output : undefined;
    };
    const [certs, cacerts, crls] = [listed('certs'), listed('cacerts'), listed('crls')];
    const pki =
      options.certificates && certs !== undefined && cacerts !== undefined && crls !== undefined
        ? { certificates: [...parseStrokeCertificates(certs, false), ...parseStrokeCertificates(cacerts, true)], crls: parseStrokeCrls(crls) }
        : undefined;
    return buildIpsecSnapshot(conf, status, first.get('hostname')?.output.trim() || undefined, pki);
  },
};
