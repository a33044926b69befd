import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log/logger.js';
import { startExporter, type RunningExporter } from '../../src/server.js';
import { createHttpsTransport } from '../../src/transport/https/client.js';
import type { HttpsTransport } from '../../src/transport/https/types.js';
import { loadSsh2 } from '../../src/transport/ssh/connect.js';
import { createSshTransport } from '../../src/transport/ssh/transport.js';
import type { SshTransport } from '../../src/transport/ssh/types.js';

export interface TestExporter extends RunningExporter {
  configFile: string;
  ssh: SshTransport;
  https: HttpsTransport;
  /** Every line the exporter logged, for asserting on reasons and on secrets never appearing. */
  logs: string[];
  get(path: string, init?: RequestInit): Promise<Response>;
}

/** An exporter in this process on 127.0.0.1, with its log captured. */
export async function startTestExporter(
  modulesYaml: string,
  opts: {
    timeoutOffsetSeconds?: number;
    fleetMaxTargets?: number;
    maxConcurrency?: number;
    maxPerTarget?: number;
    webConfigFile?: string;
    routePrefix?: string;
  } = {},
): Promise<TestExporter> {
  const dir = mkdtempSync(join(tmpdir(), 'vpnx-exporter-'));
  const configFile = join(dir, 'modules.yaml');
  writeFileSync(configFile, modulesYaml);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = createLogger('debug', 'logfmt', sink);
  const ssh = createSshTransport({ logger, idleTimeoutMs: 30_000 });
  // As main.ts does once listening: a test's first SSH probe then does not pay for loading ssh2.
  await loadSsh2();
  const https = createHttpsTransport();
  const running = await startExporter({
    configFile,
    host: '127.0.0.1',
    port: 0,
    timeoutOffsetSeconds: opts.timeoutOffsetSeconds ?? 0.5,
    maxConcurrency: opts.maxConcurrency,
    fleetMaxTargets: opts.fleetMaxTargets,
    maxPerTarget: opts.maxPerTarget,
    routePrefix: opts.routePrefix,
    logger,
    services: { ssh, https },
    webConfigFile: opts.webConfigFile,
  });
  return {
    ...running,
    configFile,
    ssh,
    https,
    logs,
    get: (path, init) => fetch(running.url + path, init),
    close: async () => {
      await running.close();
      await ssh.close();
      await https.close();
    },
  };
}

/** The value of one exact series in exposition text, or undefined. */
export function sampleValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
