/**
 * --web.config.file, exporter-toolkit's format: TLS, client certificates, basic auth,
 * headers, rate limit; checked with Node's https client and with curl against an
 * exporter in this process, with a throwaway PKI made by openssl.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { ConfigError } from '../../../src/config/config.js';
import { createLogger } from '../../../src/log/logger.js';
import { startExporter } from '../../../src/server.js';
import { createHttpsTransport } from '../../../src/transport/https/client.js';
import { createSshTransport } from '../../../src/transport/ssh/transport.js';
import { parseSubjectAltNames } from '../../../src/web/security/client-cert.js';
import { loadWebConfig, parseWebConfig } from '../../../src/config/web-config.js';
import { sampleValue, startTestExporter, type TestExporter } from '../../support/exporter.js';
import { makeTestPki, type CertPair, type TestPki } from '../../support/test-pki.js';
import type { ScriptedViciServer } from '../../support/vici-server.js';
import { startCharonLike } from '../../support/charon-like.js';
import { freePort } from '../../support/free-port.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURES = join(REPO, 'test/fixtures/web-config');

const MODULES = `modules:
  vici:
    prober: strongswan-vici-tcp
    timeout: 3s
`;

// Passwords of the fixtures' hashes (bcrypt cost 10). Test-only; never printed.
const ALICE = { user: 'alice', password: 'alice-scrapes-vpn' };
const BOB = { user: 'bob', password: 'bob-reads-too' };
const ALICE_HASH = '$2y$10$UrPy1u.kExDC9a0kxZhFyuTb3rBgdn7KaimdNRqzsJGaxsc7a2rvy';
const BOB_HASH = '$2y$10$iBiDaibKBKmspWmgkSlPEu.lSnqib9Vc1e74kPMgz0zD3F9gl.r8W';

let pki: TestPki;
let charon: ScriptedViciServer;

before(async () => {
  pki = await makeTestPki(mkdtempSync(join(tmpdir(), 'vpnx-webcfg-')));
  charon = await startCharonLike(2);
});
after(async () => {
  await charon.close();
  rmSync(pki.dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// Helpers

/** Writes a web config into the PKI directory, so "server.crt" etc. resolve next to it. */
function webConfig(name: string, yaml: string): string {
  const file = join(pki.dir, name);
  writeFileSync(file, yaml);
  return file;
}

function fixture(name: string): string {
  const file = join(pki.dir, name);
  copyFileSync(join(FIXTURES, name), file);
  return file;
}

const TLS = `tls_server_config:
  cert_file: server.crt
  key_file: server.key
`;

async function withExporter(webConfigFile: string, fn: (exporter: TestExporter) => Promise<void>): Promise<void> {
  const exporter = await startTestExporter(MODULES, { webConfigFile });
  try {
    await fn(exporter);
  } finally {
    await exporter.close();
  }
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  protocol: string | null;
}

interface ClientOptions {
  method?: string;
  ca?: string;
  client?: CertPair;
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  auth?: { user: string; password: string };
}

/** One request on a fresh connection (no agent: no TLS session shared between cases). */
function httpsGet(url: string, o: ClientOptions = {}): Promise<Reply> {
  return new Promise((resolvePromise, reject) => {
    const headers: Record<string, string> = {};
    if (o.auth) headers.authorization = `Basic ${Buffer.from(`${o.auth.user}:${o.auth.password}`).toString('base64')}`;
    const req = httpsRequest(
      url,
      {
        method: o.method ?? 'GET',
        agent: false,
        ca: readFileSync(o.ca ?? pki.ca.cert),
        ...(o.client ? { cert: readFileSync(o.client.cert), key: readFileSync(o.client.key) } : {}),
        minVersion: o.minVersion,
        maxVersion: o.maxVersion,
        headers,
        timeout: 5000,
      },
      (res) => {
        const protocol = (res.socket as TLSSocket).getProtocol();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body, protocol }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

interface CurlResult {
  code: number;
  status: string;
  stderr: string;
}

/**
 * curl with the status code on stdout. Credentials go in through `-K -` (stdin), so no
 * password is ever on a command line.
 */
function curl(url: string, args: string[], auth?: { user: string; password: string }): Promise<CurlResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', '-K', '-', ...args, url], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let status = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (status += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, status, stderr }));
    child.stdin.end(auth ? `user = "${auth.user}:${auth.password}"\n` : '');
  });
}

const certArgs = (pair: CertPair) => ['--cert', pair.cert, '--key', pair.key];

function basic(auth: { user: string; password: string }): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` };
}

function assertNoSecretsLogged(exporter: TestExporter): void {
  for (const secret of [ALICE.password, BOB.password, 'wrong-password', Buffer.from(`${ALICE.user}:${ALICE.password}`).toString('base64')]) {
    assert.ok(!exporter.logs.some((l) => l.includes(secret)), 'a password reached the log');
  }
}

// ---------------------------------------------------------------------------
// TLS

describe('TLS', () => {
  test('https answers with the configured certificate; plain HTTP to the TLS port gets nothing', async () => {
    await withExporter(webConfig('tls.yml', TLS), async (exporter) => {
      assert.match(exporter.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const ok = await httpsGet(`${exporter.url}/-/healthy`);
      assert.equal(ok.status, 200);
      assert.equal(ok.body, 'Healthy\n');
      assert.equal(ok.protocol, 'TLSv1.3');

      const plainUrl = exporter.url.replace('https:', 'http:');
      await assert.rejects(fetch(`${plainUrl}/-/healthy`));

      // A client that does not trust the CA refuses the server.
      await assert.rejects(httpsGet(`${exporter.url}/-/healthy`, { ca: pki.otherCa.cert }), /self-signed|unable to verify|certificate/i);

      const viaCurl = await curl(`${exporter.url}/-/healthy`, ['--cacert', pki.ca.cert]);
      assert.equal(viaCurl.code, 0, viaCurl.stderr);
      assert.equal(viaCurl.status, '200');
      const curlPlain = await curl(`${plainUrl}/-/healthy`, []);
      assert.notEqual(curlPlain.code, 0);
      assert.equal(curlPlain.status, '000');
      const curlUntrusting = await curl(`${exporter.url}/-/healthy`, []);
      assert.equal(curlUntrusting.code, 60, curlUntrusting.stderr); // peer certificate cannot be authenticated

      // The listening line says what is served, and nothing secret.
      const listening = exporter.logs.find((l) => l.includes('msg=listening'));
      assert.match(listening ?? '', /tls=TLSv1\.2-TLSv1\.3/);
      assert.match(listening ?? '', /client_auth=NoClientCert/);
      assert.ok(!exporter.logs.some((l) => l.includes('PRIVATE KEY')));
    });
  });

  test('min_version TLS13 refuses a TLS 1.2-only client', async () => {
    const file = webConfig('tls13.yml', `${TLS}  min_version: TLS13\n`);
    await withExporter(file, async (exporter) => {
      await assert.rejects(httpsGet(`${exporter.url}/-/healthy`, { maxVersion: 'TLSv1.2' }), /protocol version|unsupported protocol|alert/i);
      const old = await curl(`${exporter.url}/-/healthy`, ['--cacert', pki.ca.cert, '--tlsv1.2', '--tls-max', '1.2']);
      assert.notEqual(old.code, 0);
      assert.equal(old.status, '000');
      const modern = await httpsGet(`${exporter.url}/-/healthy`, { minVersion: 'TLSv1.3' });
      assert.equal(modern.status, 200);
      assert.equal(modern.protocol, 'TLSv1.3');
    });
  });

  test('max_version TLS12 refuses a TLS 1.3-only client and serves TLS 1.2', async () => {
    const file = webConfig('tls12.yml', `${TLS}  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n`);
    await withExporter(file, async (exporter) => {
      await assert.rejects(httpsGet(`${exporter.url}/-/healthy`, { minVersion: 'TLSv1.3' }));
      const ok = await httpsGet(`${exporter.url}/-/healthy`);
      assert.equal(ok.protocol, 'TLSv1.2');
      const viaCurl = await curl(`${exporter.url}/-/healthy`, ['--cacert', pki.ca.cert, '--ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256']);
      assert.notEqual(viaCurl.code, 0, 'a cipher outside cipher_suites must be refused');
      const listed = await curl(`${exporter.url}/-/healthy`, ['--cacert', pki.ca.cert, '--ciphers', 'ECDHE-ECDSA-AES256-GCM-SHA384']);
      assert.equal(listed.status, '200', listed.stderr);
    });
  });
});

// ---------------------------------------------------------------------------
// Client certificates

describe('client_auth_type', () => {
  test('RequireAndVerifyClientCert: refuses no certificate and one from another CA, accepts the right one', async () => {
    const file = webConfig('mtls.yml', `${TLS}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: test-ca.crt\n`);
    await withExporter(file, async (exporter) => {
      const url = `${exporter.url}/metrics`;
      await assert.rejects(httpsGet(url));
      await assert.rejects(httpsGet(url, { client: pki.otherCaClient }));
      // TLS 1.2 fails the handshake itself, before any request is sent.
      await assert.rejects(httpsGet(url, { maxVersion: 'TLSv1.2' }));
      const ok = await httpsGet(url, { client: pki.client });
      assert.equal(ok.status, 200);
      assert.match(ok.body, /^process_cpu_user_seconds_total /m);

      const none = await curl(url, ['--cacert', pki.ca.cert]);
      assert.notEqual(none.code, 0);
      assert.notEqual(none.status, '200');
      const foreign = await curl(url, ['--cacert', pki.ca.cert, ...certArgs(pki.otherCaClient)]);
      assert.notEqual(foreign.code, 0);
      assert.notEqual(foreign.status, '200');
      const right = await curl(url, ['--cacert', pki.ca.cert, ...certArgs(pki.client)]);
      assert.equal(right.status, '200', right.stderr);
    });
  });

  test('VerifyClientCertIfGiven: no certificate is fine, an unverifiable one is refused per request', async () => {
    const file = webConfig('mtls-if-given.yml', `${TLS}  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: test-ca.crt\n`);
    await withExporter(file, async (exporter) => {
      const url = `${exporter.url}/-/healthy`;
      assert.equal((await httpsGet(url)).status, 200);
      assert.equal((await httpsGet(url, { client: pki.client })).status, 200);
      const foreign = await httpsGet(url, { client: pki.otherCaClient });
      assert.equal(foreign.status, 403);
      assert.match(foreign.body, /client certificate not accepted/);
      assert.equal((await curl(url, ['--cacert', pki.ca.cert])).status, '200');
      assert.equal((await curl(url, ['--cacert', pki.ca.cert, ...certArgs(pki.otherCaClient)])).status, '403');
    });
  });

  test('RequireAnyClientCert: any certificate, but one', async () => {
    const file = webConfig('mtls-any.yml', `${TLS}  client_auth_type: RequireAnyClientCert\n`);
    await withExporter(file, async (exporter) => {
      const url = `${exporter.url}/-/healthy`;
      assert.equal((await httpsGet(url)).status, 403);
      assert.equal((await httpsGet(url, { client: pki.otherCaClient })).status, 200);
    });
  });

  test('client_allowed_sans: a verified certificate must also carry an allowed name', async () => {
    const file = webConfig(
      'mtls-sans.yml',
      `${TLS}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: test-ca.crt\n  client_allowed_sans: [prometheus.example]\n`,
    );
    await withExporter(file, async (exporter) => {
      const url = `${exporter.url}/-/healthy`;
      assert.equal((await httpsGet(url, { client: pki.client })).status, 200);
      const other = await httpsGet(url, { client: pki.otherSanClient });
      assert.equal(other.status, 403);
      assert.match(other.body, /client_allowed_sans/);
    });
  });
});

// ---------------------------------------------------------------------------
// Basic auth

describe('basic auth', () => {
  const USERS = `basic_auth_users:\n  ${ALICE.user}: ${ALICE_HASH}\n  ${BOB.user}: ${BOB_HASH}\n`;

  test('no credentials, wrong ones, an unknown user: 401 with WWW-Authenticate; the right ones: 200', async () => {
    await withExporter(webConfig('users.yml', USERS), async (exporter) => {
      const none = await exporter.get('/metrics');
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm="vpn-exporter"/);
      assert.equal(await none.text(), 'Unauthorized\n');
      assert.equal((await exporter.get('/metrics', { headers: basic({ user: ALICE.user, password: 'wrong-password' }) })).status, 401);
      assert.equal((await exporter.get('/metrics', { headers: basic({ user: 'mallory', password: ALICE.password }) })).status, 401);
      assert.equal((await exporter.get('/metrics', { headers: { authorization: 'Bearer abc' } })).status, 401);
      assert.equal((await exporter.get('/metrics', { headers: { authorization: 'Basic !!!' } })).status, 401);
      assert.equal((await exporter.get('/metrics', { headers: basic(ALICE) })).status, 200);
      assert.equal((await exporter.get('/metrics', { headers: basic(BOB) })).status, 200);
      // Case of the scheme does not matter; the password's does.
      const lower = `basic ${Buffer.from(`${BOB.user}:${BOB.password}`).toString('base64')}`;
      assert.equal((await exporter.get('/-/ready', { headers: { authorization: lower } })).status, 200);
      assert.equal((await exporter.get('/-/ready', { headers: basic({ user: BOB.user, password: BOB.password.toUpperCase() }) })).status, 401);
      assertNoSecretsLogged(exporter);
    });
  });

  test('every endpoint is protected, /-/healthy and unknown paths included; a probe works with the password', async () => {
    await withExporter(webConfig('users.yml', USERS), async (exporter) => {
      const probe = `/probe?module=vici&target=127.0.0.1:${charon.port}`;
      const before = charon.commands.length;
      for (const path of ['/', '/metrics', '/-/healthy', '/-/ready', probe, '/probe', '/history', '/no-such-page']) {
        assert.equal((await exporter.get(path)).status, 401, path);
      }
      assert.equal((await exporter.get('/-/reload', { method: 'POST' })).status, 401);
      assert.equal(charon.commands.length, before, 'an unauthenticated probe must not reach the gateway');

      const res = await exporter.get(probe, { headers: basic(ALICE) });
      assert.equal(res.status, 200);
      assert.equal(sampleValue(await res.text(), 'probe_success'), 1);
      assert.equal((await exporter.get('/no-such-page', { headers: basic(ALICE) })).status, 404);
    });
  });

  test('a successful check is cached; an unknown user costs about as much as a wrong password', async () => {
    await withExporter(webConfig('users.yml', USERS), async (exporter) => {
      const timed = async (auth: { user: string; password: string }, expect: number): Promise<number> => {
        const t = performance.now();
        const res = await exporter.get('/-/ready', { headers: basic(auth) });
        await res.arrayBuffer();
        assert.equal(res.status, expect);
        return performance.now() - t;
      };
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
      await timed(ALICE, 200); // the one bcrypt for these credentials
      const wrong: number[] = [];
      const unknown: number[] = [];
      const cached: number[] = [];
      for (let i = 0; i < 5; i++) {
        wrong.push(await timed({ user: ALICE.user, password: `wrong-password${i}` }, 401));
        unknown.push(await timed({ user: `nobody${i}`, password: `wrong-password${i}` }, 401));
        cached.push(await timed(ALICE, 200));
      }
      const [w, u, c] = [median(wrong), median(unknown), median(cached)];
      const report = `wrong password ${w.toFixed(1)} ms, unknown user ${u.toFixed(1)} ms, cached ${c.toFixed(1)} ms`;
      assert.ok(u > w * 0.5 && u < w * 2, `an unknown user must cost about a bcrypt: ${report}`);
      assert.ok(c * 3 < w, `a cached success must not cost a bcrypt: ${report}`);
      assertNoSecretsLogged(exporter);
    });
  });

  test('over TLS with curl', async () => {
    await withExporter(fixture('node-exporter.yml'), async (exporter) => {
      const url = `${exporter.url}/metrics`;
      assert.equal((await curl(url, ['--cacert', pki.ca.cert])).status, '401');
      assert.equal((await curl(url, ['--cacert', pki.ca.cert], { user: ALICE.user, password: 'wrong-password' })).status, '401');
      assert.equal((await curl(url, ['--cacert', pki.ca.cert], ALICE)).status, '200');
      assert.equal((await httpsGet(url, { auth: BOB })).status, 200);
      assertNoSecretsLogged(exporter);
    });
  });
});

// ---------------------------------------------------------------------------
// Headers and rate limit

describe('http_server_config.headers and rate_limit', () => {
  test('the configured headers are on every response: 200, 401, 404; a blank value sets nothing', async () => {
    const file = webConfig(
      'headers.yml',
      `http_server_config:
  headers:
    X-Frame-Options: deny
    x-content-type-options: nosniff
    Content-Security-Policy: "default-src 'self'"
    X-XSS-Protection: ""
basic_auth_users:
  ${ALICE.user}: ${ALICE_HASH}
`,
    );
    await withExporter(file, async (exporter) => {
      for (const [path, auth, status] of [
        ['/-/healthy', true, 200],
        ['/-/healthy', false, 401],
        ['/nope', true, 404],
        ['/', true, 200],
      ] as const) {
        const res = await exporter.get(path, { headers: auth ? basic(ALICE) : {} });
        assert.equal(res.status, status, path);
        assert.equal(res.headers.get('x-frame-options'), 'deny', path);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
        assert.equal(res.headers.get('content-security-policy'), "default-src 'self'", path);
        assert.equal(res.headers.get('x-xss-protection'), null, path);
      }
    });
  });

  test('behind a route prefix, the redirect and 404s outside the prefix are guarded and carry the headers too', async () => {
    const file = webConfig('prefix.yml', `http_server_config:\n  headers:\n    X-Frame-Options: deny\nbasic_auth_users:\n  ${ALICE.user}: ${ALICE_HASH}\n`);
    const exporter = await startTestExporter(MODULES, { webConfigFile: file, routePrefix: '/vpn' });
    try {
      for (const [path, auth, status] of [
        ['/vpn', true, 308],
        ['/vpn', false, 401],
        ['/elsewhere', true, 404],
        ['/elsewhere', false, 401],
        ['/vpn/-/healthy', true, 200],
      ] as const) {
        const res = await exporter.get(path, { headers: auth ? basic(ALICE) : {}, redirect: 'manual' });
        await res.arrayBuffer();
        assert.equal(res.status, status, path);
        assert.equal(res.headers.get('x-frame-options'), 'deny', path);
      }
    } finally {
      await exporter.close();
    }
  });

  test('rate_limit answers 429 beyond the burst, with the headers', async () => {
    const file = webConfig('rate.yml', 'rate_limit:\n  interval: 1h\n  burst: 2\nhttp_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n');
    await withExporter(file, async (exporter) => {
      assert.equal((await exporter.get('/-/healthy')).status, 200);
      assert.equal((await exporter.get('/-/healthy')).status, 200);
      const limited = await exporter.get('/-/healthy');
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('x-frame-options'), 'sameorigin');
    });
  });
});

// ---------------------------------------------------------------------------
// The files users already have

describe('exporter-toolkit files', () => {
  test('node_exporter-style and every-key files load as they are', async () => {
    const plain = await loadWebConfig(fixture('node-exporter.yml'));
    assert.ok(plain.tls);
    assert.equal(plain.tls.clientAuth, 'NoClientCert');
    assert.deepEqual([...plain.users.keys()], ['alice', 'bob']);

    const every = await loadWebConfig(fixture('every-key.yml'));
    assert.equal(every.tls?.clientAuth, 'RequireAndVerifyClientCert');
    assert.deepEqual([...(every.tls?.allowedSans ?? [])], ['prometheus.example']);
    assert.equal(every.tls?.serverOptions.minVersion, 'TLSv1.2');
    assert.equal(every.tls?.serverOptions.ecdhCurve, 'X25519:P-256');
    assert.match(String(every.tls?.serverOptions.ciphers), /ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305$/);
    assert.equal(every.http2, false);
    assert.deepEqual(every.rateLimit, { intervalMs: 100, burst: 50 });
    assert.equal(Object.keys(every.headers).length, 5);
  });

  test('the every-key file serves: client certificate and password both required, headers set', async () => {
    await withExporter(fixture('every-key.yml'), async (exporter) => {
      const url = `${exporter.url}/-/healthy`;
      const ok = await httpsGet(url, { client: pki.client, auth: ALICE });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['strict-transport-security'], 'max-age=31536000');
      assert.equal((await httpsGet(url, { client: pki.client })).status, 401);
      assert.equal((await httpsGet(url, { client: pki.otherSanClient, auth: ALICE })).status, 403);
      await assert.rejects(httpsGet(url, { auth: ALICE }));
      const viaCurl = await curl(url, ['--cacert', pki.ca.cert, ...certArgs(pki.client)], ALICE);
      assert.equal(viaCurl.status, '200', viaCurl.stderr);
      assertNoSecretsLogged(exporter);
    });
  });
});

// ---------------------------------------------------------------------------
// Invalid files

describe('invalid web configuration', () => {
  test('fixtures: each error names the file, the key path and the reason', async () => {
    const cases: [string, RegExp][] = [
      ['bad-unknown-key.yml', /bad-unknown-key\.yml: tls_server_config: Unrecognized key: "client_auth"/],
      [
        'bad-client-auth-type.yml',
        /bad-client-auth-type\.yml: tls_server_config\.client_auth_type: unknown client_auth_type "RequireAndVerifyClientCerts" \(one of NoClientCert, /,
      ],
      ['bad-bcrypt.yml', /bad-bcrypt\.yml: basic_auth_users\.carol: not a bcrypt hash/],
      ['bad-missing-cert.yml', /bad-missing-cert\.yml: tls_server_config\.cert_file: cannot read ".*\/no-such-server\.crt": no such file/],
      ['bad-header.yml', /bad-header\.yml: http_server_config\.headers\.Content-Type: this header cannot be set/],
    ];
    for (const [name, expected] of cases) {
      const file = fixture(name);
      const err = await loadWebConfig(file).then(
        () => assert.fail(`${name} loaded`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ConfigError, name);
      assert.match(err.message, expected);
      assert.ok(err.message.startsWith(`${file}: `), err.message);
      assert.ok(!err.message.includes('not-a-hash-but-a-password'), 'the value of a bad hash is not echoed');
    }
  });

  test('other mistakes', async () => {
    const cases: [string, RegExp][] = [
      ['tls_server_confg: {}\n', /: \(top level\): Unrecognized key: "tls_server_confg"/],
      ['basic_auth_users:\n  alice: $2y$10$short\n', /basic_auth_users\.alice: not a bcrypt hash/],
      [`basic_auth_users:\n  "a:b": ${ALICE_HASH}\n`, /basic_auth_users\.a:b: a user name .* has no ":"/],
      [`${TLS}  min_version: TLS14\n`, /tls_server_config\.min_version: unknown TLS version "TLS14"/],
      [`${TLS}  min_version: TLS13\n  max_version: TLS12\n`, /tls_server_config\.min_version: TLS13 is above max_version TLS12/],
      [`${TLS}  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n`, /tls_server_config\.cipher_suites\[0\]: unknown cipher suite "TLS_RSA_WITH_RC4_128_SHA"/],
      [`${TLS}  curve_preferences: [CurveP999]\n`, /tls_server_config\.curve_preferences\[0\]: unknown curve/],
      [`${TLS}  client_ca_file: test-ca.crt\n`, /tls_server_config\.client_auth_type: client CAs are configured but client_auth_type is NoClientCert/],
      [
        `${TLS}  client_auth_type: RequireAndVerifyClientCert\n`,
        /tls_server_config\.client_auth_type: RequireAndVerifyClientCert verifies client certificates: give client_ca_file/,
      ],
      [
        `${TLS}  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: test-ca.crt\n  client_allowed_sans: [x]\n`,
        /tls_server_config\.client_allowed_sans: needs client_auth_type/,
      ],
      [
        'tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n',
        /tls_server_config\.key_file: is not the key of the certificate in tls_server_config\.cert_file/,
      ],
      ['tls_server_config:\n  cert_file: server.key\n  key_file: server.key\n', /tls_server_config\.cert_file: holds no PEM certificate/],
      ['tls_server_config:\n  cert_file: server.crt\n', /tls_server_config: TLS needs a private key/],
      ['tls_server_config:\n  min_version: TLS13\n', /tls_server_config: sets TLS options but no certificate/],
      ['tls_server_config:\n  cert_file: ""\n  key_file: server.key\n', /tls_server_config\.cert_file: a file name must not be empty/],
      [`${TLS}  cert: "-----BEGIN CERTIFICATE-----"\n`, /tls_server_config\.cert: give cert or cert_file, not both/],
      ['http_server_config:\n  headers:\n    X-Frame-Options: allow\n', /http_server_config\.headers\.X-Frame-Options: "allow" is not one of deny, sameorigin/],
      ['http_server_config:\n  http2: yes please\n', /http_server_config\.http2: /],
      ['rate_limit:\n  interval: 1s\n', /rate_limit\.burst: with an interval set, burst must be at least 1/],
      ['rate_limit:\n  interval: soon\n  burst: 1\n', /rate_limit\.interval: invalid duration "soon"/],
      ['basic_auth_users:\n  alice: x\n  alice: y\n', /Map keys must be unique/],
    ];
    for (const [yaml, expected] of cases) {
      const file = join(pki.dir, 'bad.yml');
      await assert.rejects(parseWebConfig(file, yaml), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, expected, yaml);
        assert.ok(err.message.startsWith(`${file}: `), err.message);
        return true;
      });
    }
  });

  test('an empty file, or empty sections, mean plain HTTP without auth, as in exporter-toolkit', async () => {
    for (const yaml of ['', '# nothing\n', 'tls_server_config:\nbasic_auth_users:\nhttp_server_config:\n', 'rate_limit:\n  interval: 0\n']) {
      const c = await parseWebConfig(join(pki.dir, 'empty.yml'), yaml);
      assert.equal(c.tls, undefined);
      assert.equal(c.users.size, 0);
      assert.equal(c.rateLimit, undefined);
    }
  });

  test('the exporter does not start with an invalid web config', async () => {
    const lines: string[] = [];
    const logger = createLogger(
      'debug',
      'logfmt',
      new Writable({
        write: (c: Buffer, _e, cb) => {
          lines.push(c.toString());
          cb();
        },
      }),
    );
    const ssh = createSshTransport({ logger });
    const modules = join(pki.dir, 'modules.yaml');
    writeFileSync(modules, MODULES);
    try {
      await assert.rejects(
        startExporter({
          configFile: modules,
          host: '127.0.0.1',
          port: 0,
          timeoutOffsetSeconds: 0.5,
          logger,
          services: { ssh, https: createHttpsTransport() },
          webConfigFile: fixture('bad-bcrypt.yml'),
        }),
        /bad-bcrypt\.yml: basic_auth_users\.carol: not a bcrypt hash/,
      );
    } finally {
      await ssh.close();
    }
  });

  test('--config.check validates the web config file too', async () => {
    const modules = join(pki.dir, 'modules.yaml');
    writeFileSync(modules, MODULES);
    const check = (web: string) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolvePromise) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', join(REPO, 'src/main.ts'), '--config.check', `--config.file=${modules}`, `--web.config.file=${web}`],
          {
            cwd: REPO,
          },
        );
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('close', (code) => resolvePromise({ code, out, err }));
      });
    const [good, bad] = await Promise.all([check(fixture('every-key.yml')), check(fixture('bad-client-auth-type.yml'))]);
    assert.equal(good.code, 0, good.err);
    assert.match(good.out, /every-key\.yml: OK\n$/);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /bad-client-auth-type\.yml: tls_server_config\.client_auth_type: unknown client_auth_type/);
  });
});

// ---------------------------------------------------------------------------
// Reload

describe('reload (SIGHUP)', () => {
  /** A refused reload rejects with a ConfigError whose message is the reason. */
  const isConfigError = (reason: RegExp) => (err: unknown) => err instanceof ConfigError && reason.test(err.message);

  test('a bad file keeps the old configuration; a good one replaces users; switching TLS on needs a restart', async () => {
    const file = webConfig('reload.yml', `basic_auth_users:\n  ${ALICE.user}: ${ALICE_HASH}\n`);
    await withExporter(file, async (exporter) => {
      assert.equal((await exporter.get('/-/healthy', { headers: basic(ALICE) })).status, 200);

      writeFileSync(file, `basic_auth_users:\n  ${ALICE.user}: plaintext\n`);
      await assert.rejects(exporter.reloadWebConfig(), isConfigError(/basic_auth_users\.alice: not a bcrypt hash/));
      assert.equal((await exporter.get('/-/healthy', { headers: basic(ALICE) })).status, 200);
      assert.ok(exporter.logs.some((l) => l.includes('web configuration reload failed')));

      writeFileSync(file, `basic_auth_users:\n  ${BOB.user}: ${BOB_HASH}\n`);
      await exporter.reloadWebConfig();
      assert.equal((await exporter.get('/-/healthy', { headers: basic(ALICE) })).status, 401);
      assert.equal((await exporter.get('/-/healthy', { headers: basic(BOB) })).status, 200);

      writeFileSync(file, TLS);
      await assert.rejects(exporter.reloadWebConfig(), isConfigError(/switching TLS on needs a restart/));
      assert.equal((await exporter.get('/-/healthy', { headers: basic(BOB) })).status, 200);
    });
  });

  test('POST /-/reload re-reads the web configuration as SIGHUP does, and says why it kept the old one', async () => {
    const file = webConfig('post-reload.yml', `basic_auth_users:\n  ${ALICE.user}: ${ALICE_HASH}\n`);
    await withExporter(file, async (exporter) => {
      const reload = async (who: { user: string; password: string }) => exporter.get('/-/reload', { method: 'POST', headers: basic(who) });
      writeFileSync(file, `basic_auth_users:\n  ${BOB.user}: ${BOB_HASH}\n`);
      const ok = await reload(ALICE);
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), 'configuration reloaded\n');
      assert.equal((await exporter.get('/-/healthy', { headers: basic(ALICE) })).status, 401);
      assert.equal((await exporter.get('/-/healthy', { headers: basic(BOB) })).status, 200);

      writeFileSync(file, `basic_auth_users:\n  ${BOB.user}: plaintext\n`);
      const bad = await reload(BOB);
      assert.equal(bad.status, 500);
      assert.match(await bad.text(), /^failed to reload web config: .*basic_auth_users\.bob: not a bcrypt hash/m);
      assert.equal((await exporter.get('/-/healthy', { headers: basic(BOB) })).status, 200);
    });
  });

  test('SIGHUP with both files refused: each failure is logged, nothing is an unhandled rejection, the old files stay', async () => {
    const modules = join(pki.dir, 'sighup-modules.yaml');
    writeFileSync(modules, MODULES);
    const web = webConfig('sighup.yml', `basic_auth_users:\n  ${ALICE.user}: ${ALICE_HASH}\n`);
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'src/main.ts'), `--config.file=${modules}`, `--web.config.file=${web}`, `--web.listen-address=127.0.0.1:${port}`],
      {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const closed = new Promise((r) => child.once('close', r));
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const logged = async (what: RegExp) => {
      for (let i = 0; i < 300 && !what.test(log); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(log, what);
    };
    try {
      await logged(/msg=listening/);
      // Answering a request means main is past startExporter and has its SIGHUP handler.
      assert.equal((await fetch(`http://127.0.0.1:${port}/-/healthy`, { headers: basic(ALICE) })).status, 200);
      writeFileSync(modules, 'modules:\n  x:\n    prober: nope\n');
      writeFileSync(web, `basic_auth_users:\n  ${ALICE.user}: plaintext\n`);
      child.kill('SIGHUP');
      await logged(/msg="configuration reload failed/);
      await logged(/msg="web configuration reload failed/);
      const res = await fetch(`http://127.0.0.1:${port}/-/healthy`, { headers: basic(ALICE) });
      assert.equal(res.status, 200);
      assert.doesNotMatch(log, /unhandled rejection/);
    } finally {
      child.kill('SIGTERM');
      await closed;
    }
  });

  test('a new certificate is served to new connections', async () => {
    const file = webConfig('rotate.yml', TLS);
    await withExporter(file, async (exporter) => {
      const url = `${exporter.url}/-/healthy`;
      assert.equal((await httpsGet(url)).status, 200);
      writeFileSync(file, 'tls_server_config:\n  cert_file: other-ca-server.crt\n  key_file: other-ca-server.key\n');
      await exporter.reloadWebConfig();
      assert.equal((await httpsGet(url, { ca: pki.otherCa.cert })).status, 200);
      await assert.rejects(httpsGet(url));

      writeFileSync(file, `${TLS}  client_auth_type: RequireAnyClientCert\n`);
      await assert.rejects(exporter.reloadWebConfig(), isConfigError(/client_auth_type: changing it .* needs a restart/));
      assert.equal((await httpsGet(url, { ca: pki.otherCa.cert })).status, 200);
    });
  });
});

// ---------------------------------------------------------------------------
// Small parsers

// The Authorization header is Hono's to parse now: test/unit/web/security-middleware.test.ts.
test('subjectAltName parsing', () => {
  assert.deepEqual(parseSubjectAltNames('DNS:prometheus.example, IP Address:0:0:0:0:0:0:0:1, email:a@b.example, URI:spiffe://x/y'), [
    'prometheus.example',
    '0:0:0:0:0:0:0:1',
    'a@b.example',
    'spiffe://x/y',
  ]);
  assert.deepEqual(parseSubjectAltNames('DNS:"a, b", DNS:c'), ['a, b', 'c']);
  assert.deepEqual(parseSubjectAltNames(undefined), []);
});
