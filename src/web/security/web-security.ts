import type { ServerType } from '@hono/node-server';
import { createServer as createHttpsServer, type Server as HttpsServer, type ServerOptions } from 'node:https';
import type { Logger } from '../../log/logger.js';
import { ConfigError } from '../../config/config.js';
import { configError } from '../../config/config-file.js';
import { singleFlightReload } from '../../config/single-flight.js';
import { loadWebConfig, type WebConfig } from '../../config/web-config.js';
import { BasicAuth } from './basic-auth.js';
import { TokenBucket } from './rate-limit.js';

/**
 * The web configuration in force: the TLS server's options and certificate reloads here,
 * and what securityMiddleware (middleware.ts) checks every request against: the client
 * certificate, the rate limit, basic auth and the headers to set.
 */
export class WebSecurity {
  private inForce: WebConfig;
  private bucket: TokenBucket | undefined;
  private readonly auth: BasicAuth;
  private server: HttpsServer | undefined;

  /**
   * Re-reads the file (SIGHUP). A file that is invalid, or that would switch TLS on or
   * off or change client_auth_type (both fixed when the server starts), keeps the
   * configuration in force and rejects with a ConfigError saying why. Certificates, keys,
   * CAs, versions, ciphers, users, headers and the rate limit take effect for new
   * connections and requests.
   */
  readonly reload = singleFlightReload(() => this.doReload());

  private constructor(
    config: WebConfig,
    /** Refusals are logged here (at debug), never with credentials. */
    readonly log: Logger,
  ) {
    this.inForce = config;
    this.auth = new BasicAuth(config.users);
    this.bucket = config.rateLimit ? new TokenBucket(config.rateLimit.intervalMs, config.rateLimit.burst) : undefined;
  }

  /** Loads and validates the file; throws ConfigError (file, key path, reason) if it is invalid. */
  static async load(file: string, log: Logger): Promise<WebSecurity> {
    const security = new WebSecurity(await loadWebConfig(file), log);
    if (security.auth.enabled && !security.config.tls) {
      log.warn({ file }, 'basic_auth_users without tls_server_config: passwords cross the network in clear text');
    }
    return security;
  }

  /** The configuration in force; a request reads it once, so a reload never mixes two. */
  get config(): WebConfig {
    return this.inForce;
  }

  /** rate_limit: takes a token; false when this request is over the limit. */
  withinRateLimit(): boolean {
    return this.bucket?.take() ?? true;
  }

  /** basic_auth_users: true for a configured user with the right password. */
  verifyUser(user: string, password: string): Promise<boolean> {
    return this.auth.verify(user, password);
  }

  get tls(): boolean {
    return this.config.tls !== undefined;
  }

  /** What the start-up log line says about the web configuration; nothing secret. */
  describe(): Record<string, unknown> {
    const t = this.config.tls;
    return {
      web_config: this.config.file,
      tls: t ? `${String(t.serverOptions.minVersion)}-${String(t.serverOptions.maxVersion)}` : 'off',
      ...(t ? { client_auth: t.clientAuth, certificate: t.certificate.subject, certificate_expires: t.certificate.validTo } : {}),
      basic_auth_users: this.config.users.size,
    };
  }

  /** The options for @hono/node-server's serve(): node:https with the certificate, or nothing for plain HTTP. */
  listenOptions(): { createServer: typeof createHttpsServer; serverOptions: ServerOptions } | Record<string, never> {
    return this.config.tls ? { createServer: createHttpsServer, serverOptions: this.config.tls.serverOptions } : {};
  }

  /** Keeps the server for certificate reloads and logs failed TLS handshakes (at debug: scanners are noisy). */
  attach(server: ServerType): void {
    if (!this.config.tls) return;
    const https = server as HttpsServer;
    this.server = https;
    https.on('tlsClientError', (err, socket) => {
      this.log.debug({ err: err.message, remote: socket.remoteAddress }, 'TLS handshake failed');
      socket.destroy();
    });
  }

  private async doReload(): Promise<void> {
    const file = this.config.file;
    try {
      const next = await loadWebConfig(file);
      const was = this.config.tls;
      if (Boolean(next.tls) !== Boolean(was)) throw new ConfigError(`${file}: switching TLS ${next.tls ? 'on' : 'off'} needs a restart`);
      if (next.tls && was && next.tls.clientAuth !== was.clientAuth) {
        throw configError(file, ['tls_server_config', 'client_auth_type'], `changing it (${was.clientAuth} to ${next.tls.clientAuth}) needs a restart`);
      }
      if (next.tls && this.server) this.server.setSecureContext(next.tls.serverOptions);
      this.inForce = next;
      this.auth.setUsers(next.users);
      this.bucket = next.rateLimit ? new TokenBucket(next.rateLimit.intervalMs, next.rateLimit.burst) : undefined;
    } catch (err) {
      this.log.error({ file, err: err instanceof Error ? err.message : String(err) }, 'web configuration reload failed; keeping the previous one');
      throw err;
    }
    this.log.info(this.describe(), 'web configuration reloaded');
  }
}
