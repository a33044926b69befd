import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { startTestExporter, type TestExporter } from '../../support/exporter.js';
import type { ScriptedViciServer } from '../../support/vici-server.js';
import { startCharonLike } from '../../support/charon-like.js';

/*
 * Hostile query strings against every endpoint that reads one. Requests go out over a
 * raw socket, byte for byte, so nothing is normalised on the way. Every answer must be a
 * 4xx with a reason (or 200 where the request is valid; 502/503 where a valid probe
 * failed or was throttled), never a 500, never a hang, and no HTML page may echo
 * anything unescaped. Every module lists loopback addresses only, so no request can
 * make the exporter resolve a name or leave the machine.
 */

let exporter: TestExporter;
let charon: ScriptedViciServer;
let host: string;
let port: number;
let cases = 0;
const statuses = new Map<number, number>();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

const ENDPOINTS = ['/probe', '/api/probe', '/sessions', '/sessions.html', '/logs', '/history', '/'] as const;
type Endpoint = (typeof ENDPOINTS)[number];
const SESSIONS: ReadonlySet<string> = new Set(['/sessions', '/sessions.html']);

/** Strings that must never appear verbatim in an HTML answer: each would be live markup. */
const PAYLOADS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'><svg onload=alert(1)>",
  '</title><iframe src=javascript:alert(1)>',
  '" autofocus onfocus="alert(1)',
  "' onmouseover='alert(1)",
  '<!--',
  '&lt;already-escaped&gt;',
];

/** Tag and attribute names the pages use; filled from valid renders before fuzzing. */
const knownTags = new Set<string>();
const knownAttributes = new Set<string>();

const TAG = /<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>/"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*\/?>/y;
const ATTRIBUTE = /\s+([^\s=>/"']+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?/g;

/** Every element of an HTML page, tokenised as a browser would start to: names of tags and of their attributes. */
function elements(html: string): { tag: string; attributes: string[] }[] {
  const out: { tag: string; attributes: string[] }[] = [];
  for (const m of html.matchAll(/<[a-zA-Z]/g)) {
    TAG.lastIndex = m.index;
    const t = TAG.exec(html);
    assert.ok(t, `unparseable tag at ${JSON.stringify(html.slice(m.index, m.index + 120))}`);
    out.push({ tag: t[1]!.toLowerCase(), attributes: [...(t[2] ?? '').matchAll(ATTRIBUTE)].map((a) => a[1]!.toLowerCase()) });
  }
  return out;
}

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  charon = await startCharonLike(2);
  exporter = await startTestExporter(`modules:
  vici:
    prober: strongswan-vici-tcp
    timeout: 500ms
    allowed_targets: ["127.0.0.1:${charon.port}", "127.0.0.1:1-1023", "[::1]:*"]
  odd.name-1:
    prober: strongswan-vici-tcp
    timeout: 500ms
    allowed_targets: ["127.0.0.1:${charon.port}"]
`);
  const u = new URL(exporter.url);
  host = u.hostname;
  port = Number(u.port);
  // Baseline: the tags valid pages are made of, so an injected element stands out.
  const valid = `target=127.0.0.1:${charon.port}&module=vici`;
  for (const path of ['/', `/?${valid}`, `/sessions.html?${valid}`, '/sessions.html?module=vici', '/history', '/logs?id=1', '/logs?id=x', '/config']) {
    const res = await rawGet(path);
    assert.ok(res.status === 200 || res.status === 400, `${path}: ${res.status}`);
    for (const e of elements(res.body)) {
      knownTags.add(e.tag);
      for (const a of e.attributes) knownAttributes.add(a);
    }
  }
});

after(async () => {
  process.off('unhandledRejection', onUnhandled);
  assert.ok(![...knownAttributes].some((a) => a.startsWith('on')), 'the pages carry no inline handlers');
  await exporter?.close();
  await charon?.close();
  const byStatus = [...statuses]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
  console.log(`query-fuzz: ${cases} requests checked (${byStatus})`);
});

interface RawResponse {
  status: number;
  headers: Map<string, string[]>;
  body: string;
  ms: number;
}

/** One request on its own connection, exactly these bytes in the request line; fails the test if no answer in 5 s. */
function rawGet(target: string | Buffer, extraHeaders: string[] = []): Promise<RawResponse> {
  const started = performance.now();
  const head = Buffer.concat([
    Buffer.from('GET '),
    typeof target === 'string' ? Buffer.from(target, 'latin1') : target,
    Buffer.from(` HTTP/1.1\r\nHost: ${host}:${port}\r\n${extraHeaders.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n`, 'latin1'),
  ]);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(port, host);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer within 5 s to GET ${String(target).slice(0, 200)}`));
    }, 5000);
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      try {
        resolve({ ...parseResponse(Buffer.concat(chunks)), ms: performance.now() - started });
      } catch (err) {
        reject(err);
      }
    });
    sock.write(head);
  });
}

function parseResponse(raw: Buffer): Omit<RawResponse, 'ms'> {
  const end = raw.indexOf('\r\n\r\n');
  assert.ok(end > 0, `not an HTTP response: ${JSON.stringify(raw.subarray(0, 200).toString('latin1'))}`);
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3})(?: |$)/.exec(lines[0] ?? '');
  assert.ok(status, `bad status line ${JSON.stringify(lines[0])}`);
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    assert.ok(colon > 0, `bad header line ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  let body = raw.subarray(end + 4);
  if (headers.get('transfer-encoding')?.[0] === 'chunked') body = dechunk(body);
  return { status: Number(status[1]), headers, body: body.toString('utf8') };
}

function dechunk(buf: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    assert.ok(eol >= 0, 'truncated chunked body');
    const size = parseInt(buf.subarray(pos, eol).toString('latin1'), 16);
    assert.ok(Number.isFinite(size), 'bad chunk size');
    if (size === 0) return Buffer.concat(out);
    out.push(buf.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
}

/** What the server would decode a wire value to, when it is valid percent-encoding. */
function decoded(wire: string): string | undefined {
  try {
    return decodeURIComponent(wire.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

const EXPECTED_HEADERS = new Set([
  'content-type',
  'content-length',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'cache-control',
  'x-content-type-options',
  'content-security-policy',
  'referrer-policy',
  'x-frame-options',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'permissions-policy',
  'vary',
]);

/** The checks every answer passes; `values` are the raw (wire) parameter values sent. */
function check(what: string, endpoint: string, res: RawResponse, values: string[]): void {
  cases++;
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  const ctx = `${what} -> ${res.status} ${JSON.stringify(res.body.slice(0, 300))}`;
  const allowed = [200, 400, 403, 404, 414, 431, 503, ...(SESSIONS.has(endpoint) ? [502] : [])];
  assert.ok(allowed.includes(res.status), `unexpected status: ${ctx}`);
  assert.ok(res.ms < 3000, `took ${res.ms} ms: ${ctx}`);
  for (const [name, v] of res.headers) {
    assert.ok(EXPECTED_HEADERS.has(name), `unexpected header ${name}: ${v.join(', ')} for ${ctx}`);
  }
  if (res.status >= 400) {
    // A reason in the body; only Node's own HTTP parser refuses with a bare status line (no content type).
    const fromParser = !res.headers.has('content-type') && [400, 414, 431].includes(res.status);
    assert.ok(fromParser || res.body.trim().length > 0, `4xx without a reason: ${ctx}`);
  }
  const type = res.headers.get('content-type')?.[0] ?? '';
  if (type.startsWith('application/json')) assert.doesNotThrow(() => JSON.parse(res.body), `invalid JSON: ${ctx}`);
  if (type.startsWith('text/html')) {
    for (const p of PAYLOADS) assert.ok(!res.body.includes(p), `payload ${p} echoed unescaped: ${ctx}`);
    for (const e of elements(res.body)) {
      assert.ok(knownTags.has(e.tag), `element <${e.tag}> is not one of the pages' own: ${ctx}`);
      for (const a of e.attributes) assert.ok(knownAttributes.has(a), `attribute ${a} on <${e.tag}> is not one of the pages' own: ${ctx}`);
    }
    for (const v of values) {
      const d = decoded(v);
      if (d !== undefined && /[<>"']/.test(d) && d.length >= 2) assert.ok(!res.body.includes(d), `value ${JSON.stringify(d)} echoed unescaped: ${ctx}`);
    }
  }
}

async function send(endpoint: Endpoint, query: string, values: string[], headers: string[] = []): Promise<RawResponse> {
  const path = `${endpoint}?${query}`;
  const res = await rawGet(path, headers);
  check(path.slice(0, 400), endpoint, res, values);
  return res;
}

// ---- pieces of hostile values, as they go on the wire ----

const pct = (bytes: number[]) => bytes.map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
const enc = (s: string) => pct([...Buffer.from(s, 'utf8')]);

const ODD_ENCODINGS = [
  '%00',
  '%ff',
  '%FF%FE',
  '%C0%AF',
  '%C0%80',
  '%E0%80%AF',
  '%F0%80%80%AF',
  '%ED%A0%80',
  '%ED%B0%80',
  '%ED%A0%80%ED%B0%80',
  '%F4%90%80%80',
  '%F8%88%80%80%80',
  '%',
  '%%',
  '%2',
  '%G0',
  '%0',
  '%%30%30',
  '%25',
  '%2525',
  '%u0041',
  '%0d%0a',
  '%0a',
  '%0D',
  '%09',
  '%20',
  '+',
  '%2B',
  '%26',
  '%3D',
  '%23',
  '%3F',
  '%2F..%2F..',
  '%5C',
  '%7F',
  '%1B[31m',
];

const HOSTS = [
  'bücher.example',
  '例え.テスト',
  'ﬀ.example',
  '１２７.０.０.１',
  'xn--bcher-kva.example',
  'a\u202eb',
  'a\u200bb',
  'emoji😀.example',
  'İstanbul.example',
  'localhost',
  '127.1',
  '0x7f.0.0.1',
  '2130706433',
  '127.0.0.1.',
  '.',
  '..',
  '-a',
  'a_b',
  'a'.repeat(64),
  `${'a.'.repeat(127)}a`,
];

const V6 = [
  '[fe80::1%25eth0]',
  'fe80::1%25eth0',
  '[fe80::1%25eth0]:4502',
  '[::1%25lo]:4502',
  '[::1%25%0d%0a]',
  '[::1%25]',
  '[::1]',
  '[::1]:4502',
  '[::1]:99999',
  '[',
  ']',
  '[]',
  '[::1',
  '::1]',
  '[::1]x',
  '[127.0.0.1]',
  '::ffff:127.0.0.1',
  '[::ffff:127.0.0.1]:1',
  '[1::2::3]',
  '[fe80::1%25eth0%25eth1]',
  '[v1.fe80::a+en1]',
];

const PORTS = [':0', ':65536', ':-1', ':1e3', ':%201', ':1%00', ':0x10', ':99999999999999999999', ':', '::', ':4502:4502', ':+22', ':२२'];

const CONTROL = ['%0d%0aX-Injected:%201', '%0d%0aSet-Cookie:%20a=b', '%0aContent-Length:%200%0a%0a', '\r\nX-Injected: 1', '%0d%0a%0d%0a<html>'];

function piece(charonTarget: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...ODD_ENCODINGS) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(...PAYLOADS).chain((p) =>
        fc.constantFrom(
          enc(p),
          p.replace(/[ #&]/g, (c) => enc(c)),
        ),
      ),
    },
    { weight: 3, arbitrary: fc.constantFrom(...HOSTS).map(enc) },
    { weight: 3, arbitrary: fc.constantFrom(...V6) },
    { weight: 2, arbitrary: fc.constantFrom(...PORTS) },
    { weight: 2, arbitrary: fc.constantFrom(...CONTROL).map((c) => c.replace(/[\r\n ]/g, (x) => enc(x))) },
    { weight: 2, arbitrary: fc.constantFrom('127.0.0.1', charonTarget, '127.0.0.1:1', 'vici', 'odd.name-1', 'odd%2Ename%2D1', 'true', 'false', '1', '0') },
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 24 }).map((b) => pct([...b])) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }).map((s) => enc(s.replace(/[\ud800-\udfff]/g, '?'))) },
    { weight: 1, arbitrary: fc.integer({ min: 295, max: 310 }).map((n) => 'a'.repeat(n)) },
  );
}

function value(charonTarget: string): fc.Arbitrary<string> {
  return fc.array(piece(charonTarget), { minLength: 0, maxLength: 4 }).map((ps) => ps.join(''));
}

const NAMES = ['target', 'module', 'debug', 'id', 'Target', 'MODULE', 'tar%67et', 'target[]', 'target%00', '', '%', 'target%20', ' target'];

function query(charonTarget: string): fc.Arbitrary<{ text: string; values: string[] }> {
  const pair = fc.tuple(fc.constantFrom(...NAMES), value(charonTarget), fc.boolean());
  return fc.tuple(fc.array(pair, { minLength: 0, maxLength: 5 }), fc.constantFrom('&', '&&', ';', '&amp;')).map(([pairs, sep]) => ({
    text: pairs.map(([n, v, withEq]) => (withEq || v !== '' ? `${n}=${v}` : n)).join(sep),
    values: pairs.map(([, v]) => v),
  }));
}

test('hand-written hostile requests: 4xx with a reason, never a 500', async () => {
  const good = `127.0.0.1:${charon.port}`;
  const targets = [
    ...ODD_ENCODINGS,
    ...HOSTS.map(enc),
    ...V6,
    ...PORTS.map((p) => `127.0.0.1${p}`),
    ...CONTROL.map((c) => `127.0.0.1${c.replace(/[\r\n ]/g, (x) => enc(x))}`),
    ...PAYLOADS.map(enc),
    'a'.repeat(301),
    `${good}&target=${good}`,
    `${good}%00`,
    `${good}%20`,
    `%20${good}`,
    enc(good),
    `${good}#frag`,
  ];
  for (const endpoint of ['/probe', '/api/probe', '/sessions', '/sessions.html'] as const) {
    for (const t of targets) {
      const res = await send(endpoint, `target=${t}&module=vici`, [t]);
      if (endpoint === '/probe') assert.ok(res.status >= 400 || /^probe_success [01]$/m.test(res.body), `target ${t}: ${res.status} ${res.body.slice(0, 200)}`);
    }
    for (const m of [
      ...ODD_ENCODINGS,
      ...CONTROL.map((c) => c.replace(/[\r\n ]/g, (x) => enc(x))),
      'VICI',
      'vici%00',
      'odd+name-1',
      'odd%20name-1',
      'odd.name-1%0a',
      enc('<b>vici</b>'),
    ]) {
      const res = await send(endpoint, `target=${good}&module=${m}`, [m]);
      assert.notEqual(res.status, 200, `module ${m}`);
    }
    // A valid probe, and the same with a module name written percent-encoded.
    assert.equal((await send(endpoint, `target=${good}&module=vici`, [])).status, 200);
    assert.equal((await send(endpoint, `target=${good}&module=odd.name-1`, [])).status, 200);
    assert.equal((await send(endpoint, `target=${enc(good)}&module=%6F%64%64%2E%6E%61%6D%65%2D%31`, [])).status, 200);
    // Repeated, empty and debug parameters.
    assert.equal((await send(endpoint, `target=${good}&target=${good}&module=vici`, [])).status, 400);
    assert.equal((await send(endpoint, `target=${good}&module=vici&module=vici`, [])).status, 400);
    assert.equal((await send(endpoint, `target=&module=vici`, [])).status, 400);
    assert.equal((await send(endpoint, `target&module`, [])).status, 400);
    assert.equal((await send(endpoint, `target=${good}&module=vici&debug=%00`, [])).status, 400);
    assert.equal((await send(endpoint, `target=${good}&module=vici&${'x=1&'.repeat(2000)}`, [])).status, 200);
  }
  for (const v of [...ODD_ENCODINGS, ...PAYLOADS.map(enc), ...PAYLOADS.map((p) => p.replace(/[ #&]/g, (c) => enc(c))), ...HOSTS.map(enc), ...V6]) {
    await send('/', `target=${v}&module=${v}`, [v]);
    await send('/history', `target=${v}`, [v]);
    await send('/logs', `id=${v}`, [v]);
  }
  for (const id of ['0', '-1', '1e3', '0x1', '1.0', ' 1', '1 ', '１', '999999999999999', '9999999999999999', '%31', '1&id=2', '', '%00']) {
    const res = await send('/logs', `id=${id}`, [id]);
    assert.ok([200, 400, 404].includes(res.status), `id ${id}`);
  }
});

test('huge parameters: 100 KB is refused by the HTTP layer, 15 KB by the exporter, both with a 4xx', async () => {
  for (const endpoint of ENDPOINTS) {
    const huge = await send(endpoint, `target=${'a'.repeat(100 * 1024)}&module=vici`, []);
    assert.equal(huge.status, 431, endpoint);
    const hugeEncoded = await send(endpoint, `target=${'%41'.repeat(40 * 1024)}&module=vici`, []);
    assert.equal(hugeEncoded.status, 431, endpoint);
    const big = await send(endpoint, `target=${'a'.repeat(15 * 1024)}&module=vici&id=${'9'.repeat(100)}`, []);
    assert.ok([200, 400].includes(big.status), `${endpoint}: ${big.status}`);
    if (['/probe', '/api/probe', '/sessions', '/sessions.html'].includes(endpoint)) assert.match(big.body, /longer than 300 characters/);
  }
});

test('raw bytes the URL grammar forbids, and broken header lines', async () => {
  const good = `127.0.0.1:${charon.port}`;
  const raws: Buffer[] = [
    Buffer.from(`/probe?target=\xff\xfe&module=vici`, 'latin1'),
    Buffer.from(`/probe?target=${good}\x00&module=vici`, 'latin1'),
    Buffer.from(`/probe?target=${good}\x7f&module=vici`, 'latin1'),
    Buffer.from(`/sessions.html?target=<script>&module=vici`, 'latin1'),
    Buffer.from(`/?target="><b>&module=vici`, 'latin1'),
    Buffer.from(`/probe?target=${good}\tx&module=vici`, 'latin1'),
    Buffer.concat([Buffer.from('/api/probe?target='), Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]), Buffer.from('&module=vici')]),
    Buffer.from('/history?target=例え', 'utf8'),
  ];
  for (const r of raws) {
    const res = await rawGet(r);
    check(JSON.stringify(r.toString('latin1')), r.toString('latin1').split('?')[0]!, res, []);
  }
  const headers = [
    ['X-Prometheus-Scrape-Timeout-Seconds: 1e308'],
    ['X-Prometheus-Scrape-Timeout-Seconds: -0'],
    ['X-Prometheus-Scrape-Timeout-Seconds: NaN'],
    ['X-Prometheus-Scrape-Timeout-Seconds: 0x10'],
    ['X-Prometheus-Scrape-Timeout-Seconds: Infinity'],
    ['X-Prometheus-Scrape-Timeout-Seconds: 1e-300'],
    [`X-Prometheus-Scrape-Timeout-Seconds: ${'9'.repeat(4000)}`],
    ['X-Prometheus-Scrape-Timeout-Seconds: <script>'],
    ['X-Prometheus-Scrape-Timeout-Seconds: 1', 'X-Prometheus-Scrape-Timeout-Seconds: 2'],
    ['X-Prometheus-Scrape-Timeout-Seconds: \xff'],
    ['X-Bad\x00Name: 1'],
    ['X-Folded: a', ' folded'],
    ['X-Bare-LF: a\nX-Injected: 1'],
  ];
  for (const h of headers) {
    for (const endpoint of ['/probe', '/sessions.html'] as const) {
      const res = await send(endpoint, `target=${good}&module=vici`, [], h);
      assert.ok([200, 400].includes(res.status), `${JSON.stringify(h)}: ${res.status}`);
    }
  }
});

test('fast-check: generated query strings on every endpoint', async () => {
  const good = `127.0.0.1:${charon.port}`;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...ENDPOINTS), query(good), async (endpoint, q) => {
      await send(endpoint, q.text, q.values);
    }),
    { numRuns: 1200, seed: 20251124 },
  );
  // Also with a target and module that are valid, so the rest of the query is what varies.
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...ENDPOINTS), query(good), fc.boolean(), async (endpoint, q, first) => {
      const text = first ? `target=${good}&module=vici&${q.text}` : `${q.text}&target=${good}&module=vici`;
      await send(endpoint, text, q.values);
    }),
    { numRuns: 600 },
  );
});

test('after the storm: no 500, no unhandled rejection, the exporter still probes', async () => {
  assert.ok(!exporter.logs.some((l) => /msg="request failed"/.test(l)), 'app.onError was reached');
  assert.deepEqual(unhandled, []);
  const res = await send('/probe', `target=127.0.0.1:${charon.port}&module=vici`, []);
  assert.match(res.body, /^probe_success 1$/m);
  const metrics = await (await exporter.get('/metrics')).text();
  assert.doesNotMatch(metrics, /result="(?:success|failure|rejected|throttled)",?[^}]*\} NaN/);
});
