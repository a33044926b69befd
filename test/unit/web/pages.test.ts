import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ScriptedViciServer } from '../../support/vici-server.js';
import { startCharonLike } from '../../support/charon-like.js';
import { startTestExporter, type TestExporter } from '../../support/exporter.js';
import { freePort } from '../../support/free-port.js';

const SECRETS = ['hunter2-SECRET', 'PRIVATE-KEY-SECRET-MATERIAL', 'passphrase-SECRET'];
const MODULES = `modules:
  vici:
    prober: strongswan-vici-tcp
    timeout: 2s
  ovpn:
    prober: openvpn-ssh
    timeout: 2s
    ssh:
      username: monitor
      password: ${SECRETS[0]}
      private_key: |
        -----BEGIN OPENSSH PRIVATE KEY-----
        ${SECRETS[1]}
        -----END OPENSSH PRIVATE KEY-----
      passphrase: ${SECRETS[2]}
      host_key_fingerprints: ["SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
    status_files:
      - name: udp
        path: /run/openvpn/server.status
`;
const HOSTILE = '<script>alert(1)</script>"\'><img src=x onerror=alert(2)>';

let exporter: TestExporter;
let charon: ScriptedViciServer;
let target: string;
let closedTarget: string;

before(async () => {
  charon = await startCharonLike(3);
  exporter = await startTestExporter(MODULES);
  target = `127.0.0.1:${charon.port}`;
  closedTarget = `127.0.0.1:${await freePort()}`;
});
after(async () => {
  await exporter.close();
  await charon.close();
});

async function page(path: string, status = 200): Promise<string> {
  const res = await exporter.get(path);
  assert.equal(res.status, status, path);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/, path);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/, path);
  assert.match(csp, /script-src 'self'(;|$)/, path);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  const html = await res.text();
  // Anything inline would be blocked by the policy, and anything remote is forbidden.
  // Escaping turns every "<", ">" and quote of text into an entity, so each raw "<" opens a real tag.
  for (const [tag] of html.matchAll(/<[a-z][^>]*>/gi)) {
    const names = tag.replace(/="[^"]*"/g, '=""');
    assert.doesNotMatch(names, /^<script(?![^>]*\ssrc=)/i, `${path}: inline script ${tag}`);
    assert.doesNotMatch(names, /^<style|\sstyle=/i, `${path}: inline style ${tag}`);
    assert.doesNotMatch(names, /\son[a-z]+=/i, `${path}: inline handler ${tag}`);
    assert.doesNotMatch(tag, /\s(src|href|action)="(https?:)?\/\//i, `${path}: external resource ${tag}`);
  }
  return html;
}

function assertEscaped(html: string, path: string): void {
  assert.ok(!html.includes('<script>alert'), `${path}: raw script tag`);
  assert.ok(!html.includes('<img src=x'), `${path}: raw img tag`);
}

test('the landing page offers every module with its prober and keeps the form state from the query', async () => {
  const html = await page(`/?target=${encodeURIComponent(target)}&module=vici`);
  assert.match(html, /<label for="target">Target<\/label>/);
  assert.match(html, /<label for="module">Module<\/label>/);
  assert.match(html, /<option value="vici" selected>vici \(strongswan-vici-tcp\)<\/option>/);
  assert.match(html, /<option value="ovpn">ovpn \(openvpn-ssh\)<\/option>/);
  assert.ok(html.includes(`value="${target}"`));
  assert.match(html, /<button type="submit" id="probe-button">Probe<\/button>/);
  assert.match(html, /<script src="assets\/ui\.js" defer><\/script>/);
  for (const href of ['metrics', 'config', 'history']) assert.ok(html.includes(`href="${href}"`), href);
});

test('hostile strings in the query are escaped on every page', async () => {
  const q = encodeURIComponent(HOSTILE);
  const landing = await page(`/?target=${q}&module=${q}`);
  assertEscaped(landing, '/');
  assert.ok(landing.includes('value="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;&lt;img src=x onerror=alert(2)&gt;"'));
  const history = await page(`/history?target=${q}`);
  assertEscaped(history, '/history');
  assert.ok(history.includes('&lt;script&gt;alert(1)'));
  const refused = await page(`/sessions.html?target=${q}&module=vici`, 400);
  assertEscaped(refused, '/sessions.html');
  assert.match(refused, /target &quot;&lt;script&gt;alert\(1\)&lt;\/script&gt;.* has an invalid host name/);
  const unknownModule = await page(`/sessions.html?target=${target}&module=${q}`, 400);
  assertEscaped(unknownModule, '/sessions.html (module)');
  assertEscaped(await page(`/logs?id=${q}`, 400), '/logs');
});

test('assets are served by the exporter with their types', async () => {
  const cases: [string, RegExp][] = [
    ['/assets/ui.js', /^text\/javascript/],
    ['/assets/ui.css', /^text\/css/],
    ['/assets/favicon.svg', /^image\/svg\+xml/],
  ];
  for (const [path, type] of cases) {
    const res = await exporter.get(path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type') ?? '', type, path);
    assert.ok((await res.text()).length > 100, path);
  }
});

test('/sessions.html shows the sessions of a target, or why it could not', async () => {
  const html = await page(`/sessions.html?target=${target}&module=vici`);
  assert.match(html, /<h2>Sessions and users \(3\)<\/h2>/);
  assert.match(html, /<td role="cell" data-label="User">user1@eap\.example<\/td>/);
  assert.match(html, /<td role="cell" data-label="Remote address">203\.0\.113\.2:4500<\/td>/);
  assert.match(html, /<td role="cell" data-label="Virtual IP">198\.51\.100\.2<\/td>/);
  assert.match(html, /<td role="cell" data-label="In">2\.9 KiB<\/td>/);
  assert.match(html, /href="logs\?id=\d+">Probe log/);

  const failed = await page(`/sessions.html?target=${closedTarget}&module=vici`, 502);
  assert.match(failed, /Probe failed/);
  assert.match(failed, /refused/);
  const id = /href="logs\?id=(\d+)"/.exec(failed)?.[1];
  assert.ok(id);
  assert.match(await page(`/logs?id=${id}`), /probe failed reason=.*refused/);
});

test('/logs answers 400 for a malformed id and 404 for one not in the history', async () => {
  assert.match(await page('/logs?id=abc', 400), /id must be a probe number/);
  assert.match(await page('/logs', 400), /id must be a probe number/);
  assert.match(await page('/logs?id=999999', 404), /not in the history/);
});

test('inline secrets appear on no page, in no answer and in no log', async () => {
  const config = await page('/config');
  assert.match(config, /ovpn:\n\s+prober: openvpn-ssh/);
  assert.match(config, /password: &lt;secret&gt;/);
  assert.match(config, /private_key: &lt;secret&gt;/);
  assert.match(config, /passphrase: &lt;secret&gt;/);
  assert.match(config, /username: monitor/);

  const api = await exporter.get(`/api/probe?module=ovpn&target=${closedTarget}`);
  const apiText = await api.text();
  const { id, success } = JSON.parse(apiText) as { id: number; success: boolean };
  assert.equal(success, false);
  const answers = [
    config,
    apiText,
    await page('/'),
    await page(`/?target=${closedTarget}&module=ovpn`),
    await page(`/logs?id=${id}`),
    await page('/history'),
    await (await exporter.get(`/probe?module=ovpn&target=${closedTarget}&debug=true`)).text(),
    await (await exporter.get(`/sessions?module=ovpn&target=${closedTarget}`)).text(),
    await page(`/sessions.html?module=ovpn&target=${closedTarget}`, 502),
    exporter.logs.join('\n'),
  ];
  assert.match(answers[6] ?? '', /Module configuration \(ovpn\)/);
  for (const [i, text] of answers.entries()) {
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `answer ${i} shows ${secret}`);
  }
});
