import type { Http2Bindings, HttpBindings } from '@hono/node-server';
import type { Context, MiddlewareHandler } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import { HTTPException } from 'hono/http-exception';
import { clientCertProblem } from './client-cert.js';
import type { WebSecurity } from './web-security.js';

/**
 * Hono sends `Basic realm="…"`; the charset parameter (RFC 7617) also tells browsers to
 * send a non-ASCII password as UTF-8, which is how bcrypt hashes from htpasswd see it.
 */
const WWW_AUTHENTICATE = 'Basic realm="vpn-exporter", charset="UTF-8"';

/**
 * The web configuration applied to every request before any route, registered first on
 * the root app: the client certificate (per client_auth_type), the rate limit, basic
 * auth, then the configured headers on whatever answers, refusals, 404s and redirects
 * included. Nothing is exempt, not even /-/healthy.
 */
export function securityMiddleware(security: WebSecurity): MiddlewareHandler {
  const basic = basicAuth({
    realm: 'vpn-exporter',
    invalidUserMessage: 'Unauthorized\n',
    verifyUser: (user, password) => security.verifyUser(user, password),
  });

  const authenticate = async (c: Context, next: () => Promise<void>): Promise<void> => {
    try {
      await basic(c, next);
    } catch (err) {
      // Hono's basicAuth refuses by throwing its 401; errors in the routes never get here
      // (Hono turns them into responses where they happen).
      if (!(err instanceof HTTPException) || err.status !== 401) throw err;
      // Neither the user name nor the password is logged: either may be the other's mistype.
      security.log.debug({ path: c.req.path }, 'request refused: basic auth');
      const res = err.getResponse();
      res.headers.set('WWW-Authenticate', WWW_AUTHENTICATE);
      c.res = res;
    }
  };

  return async (c, next) => {
    const config = security.config;
    const env = c.env as HttpBindings | Http2Bindings | undefined;
    const certProblem = config.tls ? clientCertProblem(env?.incoming?.socket, config.tls) : undefined;
    if (certProblem !== undefined) {
      security.log.debug({ reason: certProblem, path: c.req.path }, 'request refused: client certificate');
      c.res = c.text(`Forbidden: ${certProblem}\n`, 403);
    } else if (!security.withinRateLimit()) {
      c.res = c.text('Too Many Requests\n', 429);
    } else if (config.users.size > 0) {
      await authenticate(c, next);
    } else {
      await next();
    }
    for (const [name, value] of Object.entries(config.headers)) c.header(name, value);
  };
}
