import type { Http2Bindings, HttpBindings, ServerType } from '@hono/node-server';
import { createServer as createHttpsServer, type Server as HttpsServer, type ServerOptions } from 'node:https';
import type { Logger } from 'pino';
import { ConfigError } from '../../config/config.js';
import { configError } from '../../config/config-file.js';
import { singleFlightReload } from '../../config/single-flight.js';
import { loadWebConfig, type WebConfig } from '../../config/web-config.js';
import { BasicAuth } from './basic-auth.js';
import { clientCertProblem } from './client-cert.js';
import { TokenBucket } from './rate-limit.js';

type Fetch = (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;

const WWW_AUTHENTICATE = 'Basic realm="vpn-exporter", charset="UTF-8"';

function plain(status: number, body: string, extra: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...extra } });
}

/**
 * The web configuration in force, applied to every request before any route: the
 * client certificate (per client_auth_type), the rate limit, basic auth, then the
 * configured headers on whatever answers. Nothing is exempt, not even /-/healthy.
 */
export class WebSecurity {
  private config: WebConfig;
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
    private readonly log: Logger,
  ) {
    this.config = config;
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

  /** Wraps the app's fetch so every request passes the web configuration first. */
  wrap(next: Fetch): Fetch {
    return async (request, env) => {
      const config = this.config;
      let response: Response;
      const certProblem = config.tls ? clientCertProblem(env?.incoming?.socket, config.tls) : undefined;
      if (certProblem !== undefined) {
        this.log.debug({ reason: certProblem, path: new URL(request.url).pathname }, 'request refused: client certificate');
        response = plain(403, `Forbidden: ${certProblem}\n`);
      } else if (this.bucket && !this.bucket.take()) {
        response = plain(429, 'Too Many Requests\n');
      } else if (this.auth.enabled && !(await this.auth.check(request.headers.get('authorization')))) {
        // Neither the user name nor the password is logged: either may be the other's mistype.
        this.log.debug({ path: new URL(request.url).pathname }, 'request refused: basic auth');
        response = plain(401, 'Unauthorized\n', { 'WWW-Authenticate': WWW_AUTHENTICATE });
      } else {
        response = await next(request, env);
      }
      const headers = Object.entries(config.headers);
      if (headers.length === 0) return response;
      try {
        for (const [name, value] of headers) response.headers.set(name, value);
      } catch {
        // Immutable headers (a Response from fetch()): copy.
        response = new Response(response.body, response);
        for (const [name, value] of headers) response.headers.set(name, value);
      }
      return response;
    };
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
      this.config = next;
      this.auth.setUsers(next.users);
      this.bucket = next.rateLimit ? new TokenBucket(next.rateLimit.intervalMs, next.rateLimit.burst) : undefined;
    } catch (err) {
      this.log.error({ file, err: err instanceof Error ? err.message : String(err) }, 'web configuration reload failed; keeping the previous one');
      throw err;
    }
    this.log.info(this.describe(), 'web configuration reloaded');
  }
}
