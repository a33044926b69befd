// What the exporter receives from a gateway, byte for byte, for the tests that prove no key
// leaves it: an SSH transport that records every exec's output and every stream-local
// channel's data, with a logger whose lines are kept too; and openssl's own expiry reading.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { matching } from '../../support/exposition.js';
import { createLogger } from '../../../src/log/logger.js';
import { createSshTransport } from '../../../src/transport/ssh/transport.js';
import type { SshTransport } from '../../../src/transport/ssh/types.js';
import { run } from './netns.js';

export interface RecordingSsh {
  transport: SshTransport;
  /** Every byte received: exec stdout and stderr, stream-local data. */
  received: string[];
  /** The kinds of channel opened, in order ('exec', 'stream-local'). */
  channels: string[];
  /** The transport's own log lines (debug level). */
  logLines: string[];
}

export function recordingSshTransport(): RecordingSsh {
  const logLines: string[] = [];
  const sink = new Writable({
    write: (c: Buffer, _e, cb) => {
      logLines.push(c.toString());
      cb();
    },
  });
  const inner = createSshTransport({ logger: createLogger('debug', 'logfmt', sink), idleTimeoutMs: 5_000 });
  const received: string[] = [];
  const channels: string[] = [];
  const transport: SshTransport = {
    exec: async (endpoint, command, opts) => {
      channels.push('exec');
      const r = await inner.exec(endpoint, command, opts);
      received.push(r.stdout, r.stderr);
      return r;
    },
    openShell: () => Promise.reject(new Error('no shell is expected here')),
    openStreamLocal: async (endpoint, socketPath, opts) => {
      channels.push('stream-local');
      const s = await inner.openStreamLocal(endpoint, socketPath, opts);
      s.stream.on('data', (chunk: Buffer) => received.push(chunk.toString('latin1')));
      return s;
    },
    execStream: () => Promise.reject(new Error('no bridge command is expected here')),
    stats: () => inner.stats(),
    close: () => inner.close(),
  };
  return { transport, received, channels, logLines };
}

/** "notAfter=Jan  2 03:04:05 2027 GMT" from openssl → Unix seconds. */
export async function opensslTime(args: string[]): Promise<number> {
  const line = (await run('openssl', args)).stdout.trim();
  const ms = Date.parse(line.replace(/^[A-Za-z]+=/, '').replace(/ GMT$/, ' UTC'));
  assert.ok(Number.isFinite(ms), `openssl printed ${JSON.stringify(line)}`);
  return ms / 1000;
}

/**
 * The OpenVPN lab's CA and server certificate, as every configuration form names them, in the
 * exported certificate series, each expiry as openssl reads it from the same file.
 */
export async function assertLabCertificates(text: string, pki: { ca: string; server: { cert: string } }): Promise<void> {
  const [serverEnd, caEnd] = await Promise.all([
    opensslTime(['x509', '-noout', '-enddate', '-in', pki.server.cert]),
    opensslTime(['x509', '-noout', '-enddate', '-in', pki.ca]),
  ]);
  assert.deepEqual(
    matching(text, 'vpn_certificate_expiry_timestamp_seconds', {})
      .map((s) => [s.labels.subject, s.labels.issuer, s.labels.role, s.labels.private_key, s.value])
      .sort(),
    [
      ['vpnx-lab-ca', 'vpnx-lab-ca', 'ca', 'false', caEnd],
      ['vpnx-server', 'vpnx-lab-ca', 'end-entity', 'true', serverEnd],
    ],
    text,
  );
}
