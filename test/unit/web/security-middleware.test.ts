/**
 * securityMiddleware on a bare Hono app (no server, no TLS): how the Authorization header
 * is read and what the refusals look like. The web-config tests cover the same middleware
 * through a running exporter, with TLS and client certificates.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { Hono } from 'hono';
import { createLogger } from '../../../src/log/logger.js';
import { securityMiddleware } from '../../../src/web/security/middleware.js';
import { WebSecurity } from '../../../src/web/security/web-security.js';

const dir = mkdtempSync(join(tmpdir(), 'vpnx-security-'));
const logs: string[] = [];
let app: Hono;

before(async () => {
  // Cost 4: these tests are about the header, not about bcrypt's cost.
  const file = join(dir, 'web.yml');
  writeFileSync(
    file,
    `basic_auth_users:
  a: ${bcrypt.hashSync('b:c', 4)}
  ü: ${bcrypt.hashSync('', 4)}
http_server_config:
  headers:
    X-Frame-Options: deny
rate_limit:
  interval: 1ms
  burst: 1000
`,
  );
  const logger = createLogger(
    'debug',
    'logfmt',
    new Writable({
      write: (c: Buffer, _e, cb) => {
        logs.push(c.toString());
        cb();
      },
    }),
  );
  const security = await WebSecurity.load(file, logger);
  app = new Hono();
  app.use('*', securityMiddleware(security));
  app.get('/', (c) => c.text('ok\n'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

async function status(authorization?: string): Promise<number> {
  const res = await app.request('/', authorization === undefined ? {} : { headers: { authorization } });
  await res.arrayBuffer();
  return res.status;
}

test('the user is what precedes the first ":", the password all that follows; the scheme has any case', async () => {
  assert.equal(await status(`Basic ${b64('a:b:c')}`), 200);
  assert.equal(await status(`BASIC ${b64('ü:')}`), 200);
  assert.equal(await status(`basic ${b64('a:b:c')}`), 200);
  assert.equal(await status(`Basic ${b64('a:b')}`), 401);
  assert.equal(await status(`Basic ${b64('a:b:c ')}`), 401);
});

test('no header, another scheme, no colon or garbage: 401', async () => {
  for (const header of [undefined, 'Digest abc', `Basic ${b64('nocolon')}`, 'Basic !!!', `Basic ${'A'.repeat(5000)}`, `Bearer ${b64('a:b:c')}`]) {
    assert.equal(await status(header), 401, header);
  }
});

test('the 401 is what it was before Hono did the parsing: realm, charset, body, and the configured headers', async () => {
  const res = await app.request('/');
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('www-authenticate'), 'Basic realm="vpn-exporter", charset="UTF-8"');
  assert.equal(res.headers.get('x-frame-options'), 'deny');
  assert.equal(await res.text(), 'Unauthorized\n');
  const ok = await app.request('/', { headers: { authorization: `Basic ${b64('a:b:c')}` } });
  assert.equal(ok.headers.get('x-frame-options'), 'deny');
  assert.equal(ok.headers.get('www-authenticate'), null);
  assert.ok(!logs.join('').includes(b64('a:b:c')) && !logs.join('').includes('b:c'), 'credentials reached the log');
  assert.ok(logs.some((l) => l.includes('request refused: basic auth')));
});
