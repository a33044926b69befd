import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { ProbeLog } from '../../log/probe-log.js';
import { BoundedBuffer } from '../../util/bounded-buffer.js';
import { ProbeError, errorMessage } from '../../util/errors.js';
import { checkKnownHosts, knownKeyTypes, linesForHost, parseKnownHosts, type KnownHostLine } from './known-hosts.js';
import type { HostKeyPolicy } from './types.js';

/** A real known_hosts of a few thousand hosts fits comfortably; anything bigger is a mistake. */
const MAX_KNOWN_HOSTS_BYTES = 4 * 1024 * 1024;

export interface PresentedKey {
  type: string;
  fingerprint: string;
}

/** The same text `ssh-keygen -lf` prints: unpadded base64 of the blob's SHA-256. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function describeKey(blob: Buffer): PresentedKey {
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  const type = len > 0 && 4 + len <= blob.length ? blob.subarray(4, 4 + len).toString('latin1') : 'unknown';
  return { type, fingerprint: fingerprintOf(blob) };
}

/**
 * Host key verification for one connection attempt. `verify` runs inside the
 * handshake; when it refuses, `rejection` holds the error to report instead of
 * ssh2's generic one.
 */
export interface HostKeyCheck {
  verify(blob: Buffer): boolean;
  rejection: ProbeError | undefined;
  /** Host key algorithms in the order to offer them. */
  algorithms: string[];
}

export async function prepareHostKeyCheck(policy: HostKeyPolicy, host: string, port: number, log: ProbeLog): Promise<HostKeyCheck> {
  const label = `${host}:${port}`;
  const lines = policy.knownHostsFile ? linesForHost(await readKnownHosts(policy.knownHostsFile), host, port) : [];
  const pins = new Set((policy.fingerprints ?? []).map((f) => f.trim().replace(/=+$/, '')));
  const check: HostKeyCheck = {
    rejection: undefined,
    algorithms: algorithmsFor(knownKeyTypes(lines, host, port)),
    verify(blob) {
      const key = describeKey(blob);
      const presented = `presented ${key.fingerprint} (${key.type})`;
      if (policy.insecureSkipVerify) {
        log.warn('ssh host key NOT verified (insecureSkipVerify)', { host: label, fingerprint: key.fingerprint });
        return true;
      }
      const verdict = checkKnownHosts(lines, host, port, blob);
      if (verdict.kind === 'revoked') {
        check.rejection = new ProbeError(`host key for ${label} is revoked in ${policy.knownHostsFile}: ${presented}`, { kind: 'host_key_mismatch' });
        return false;
      }
      if (verdict.kind === 'trusted' || pins.has(key.fingerprint)) {
        log.debug('ssh host key verified', { host: label, fingerprint: key.fingerprint });
        return true;
      }
      const hint = verdict.others.length > 0 ? `; known_hosts holds a different ${verdict.others.join('/')} key for this host` : '';
      check.rejection = new ProbeError(`host key for ${label} not trusted: ${presented}${hint}`, { kind: 'host_key_mismatch' });
      return false;
    },
  };
  return check;
}

async function readKnownHosts(file: string): Promise<KnownHostLine[]> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw new ProbeError(`cannot read known_hosts file ${file}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    const buf = new BoundedBuffer(MAX_KNOWN_HOSTS_BYTES, `known_hosts file ${file}`);
    const chunk = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      buf.push(Buffer.from(chunk.subarray(0, bytesRead)));
    }
    return parseKnownHosts(buf.toString('utf8'));
  } finally {
    await handle.close();
  }
}

/** ssh2's own default order; repeated here because ssh2 does not export it. */
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/**
 * Puts the algorithms of keys we hold first: a server with several host keys
 * otherwise presents whichever ssh2 prefers, which may be one we cannot check.
 * An RSA key is usable under any of its signature algorithms.
 */
function algorithmsFor(keyTypes: string[]): string[] {
  const wanted = new Set(keyTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t])));
  const first = HOST_KEY_ALGORITHMS.filter((a) => wanted.has(a));
  return [...first, ...HOST_KEY_ALGORITHMS.filter((a) => !wanted.has(a))];
}
