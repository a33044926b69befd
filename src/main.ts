#!/usr/bin/env node
// First: V8's heap settings for a long-running service, before the other modules load.
import './cli/heap.js';
import { codeCacheState } from './cli/code-cache.js';
import { parseFlags, USAGE, UsageError, type Flags } from './cli/flags.js';
import { loadConfig } from './config/modules.js';
import { createLogger } from './log/logger.js';
import { PROBERS } from './probers.js';
import { startExporter } from './server.js';
import { loadWebConfig } from './config/web-config.js';
import { createHttpsTransport } from './transport/https/client.js';
import { loadSsh2 } from './transport/ssh/connect.js';
import { createSshTransport } from './transport/ssh/transport.js';
import { VERSION, REVISION } from './version.js';

async function main(): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`vpn-exporter: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (flags.version) {
    process.stdout.write(`vpn-exporter ${VERSION} (revision ${REVISION}, node ${process.version}, ${codeCacheState()})\n`);
    return 0;
  }
  if (flags.configCheck) {
    try {
      const config = await loadConfig(flags.configFile, PROBERS);
      process.stdout.write(`${flags.configFile}: OK, ${config.modules.size} module(s)\n`);
      if (flags.webConfigFile !== undefined) {
        await loadWebConfig(flags.webConfigFile);
        process.stdout.write(`${flags.webConfigFile}: OK\n`);
      }
      return 0;
    } catch (err) {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
  }

  const logger = createLogger(flags.logLevel, flags.logFormat);
  const ssh = createSshTransport({ logger, maxConnections: flags.sshMaxConnections });
  const https = createHttpsTransport();
  let exporter;
  try {
    exporter = await startExporter({
      configFile: flags.configFile,
      host: flags.listenHost,
      port: flags.listenPort,
      timeoutOffsetSeconds: flags.timeoutOffsetSeconds,
      historyLimit: flags.historyLimit,
      fleetMaxTargets: flags.fleetMaxTargets,
      routePrefix: flags.routePrefix,
      maxConcurrency: flags.maxConcurrency,
      maxPerTarget: flags.maxPerTarget,
      logger,
      services: { ssh, https },
      webConfigFile: flags.webConfigFile,
    });
  } catch (err) {
    logger.error({ err: err instanceof Error ? err.message : String(err) }, 'cannot start');
    await ssh.close();
    await https.close();
    return 1;
  }
  const running = exporter;
  // ssh2 loads a second after listening (src/transport/ssh/connect.ts): loading blocks the event
  // loop for 60-100 ms, which right at start would hold up the first answers (a readiness
  // check, a scrape of /metrics). An SSH probe that comes first loads it itself.
  setTimeout(() => {
    loadSsh2().catch((err: unknown) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'cannot load ssh2'));
  }, 1000).unref();
  if (flags.externalUrl) logger.info({ external_url: flags.externalUrl }, 'reachable as');
  process.on('SIGHUP', () => {
    // A refused file is logged (and shown in the reload gauge) by the reloader itself;
    // the rejection only tells callers such as POST /-/reload.
    running.config.reload().catch(() => undefined);
    running.reloadWebConfig().catch(() => undefined);
  });
  // A stray rejection must never take the exporter down for the whole fleet: log it and carry on.
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason instanceof Error ? reason.stack : String(reason) }, 'unhandled rejection (a bug)');
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await running.close();
  await ssh.close();
  await https.close();
  return 0;
}

// Not a top-level await: the build bundles this file as CommonJS, which V8's code cache needs
// (src/cli/launcher.ts).
main().then((code) => {
  process.exitCode = code;
});
