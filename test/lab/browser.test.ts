// The web UI end to end in real Chromium: the form, the tables, the history and logs,
// bookmarkable URLs, keyboard use, no console errors, screenshots at phone and desktop width.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, screenshot, type TestBrowser } from '../support/browser.js';
import { startTestExporter, type TestExporter } from '../support/exporter.js';
import type { ScriptedViciServer } from '../support/vici-server.js';
import { startCharonLike } from '../support/charon-like.js';
import { SHUNTS } from './support/strongswan-config.js';
import { startViciLab, type ViciLab } from './support/strongswan-lab.js';
import { PKI_NAMES } from './support/strongswan-pki.js';
import { freePort } from '../support/free-port.js';
import { ROOT_USER, startWireguardLab, type WireguardLab } from './support/wireguard-lab.js';

// The callbacks given to evaluate() run in Chromium, but this file is Node code, checked
// without the DOM lib (tsconfig.json): declare the browser globals they use, for this file only.
declare const document: {
  activeElement: { id: string; tagName: string; textContent: string | null } | null;
  documentElement: { scrollWidth: number; clientWidth: number };
  body: unknown;
};
declare function getComputedStyle(e: unknown): { backgroundColor: string; outlineStyle: string };

// Another module comes first, so choosing the VICI one is a real choice.
const MODULES = `modules:
  ovpn:
    prober: openvpn-ssh
    timeout: 2s
    ssh:
      username: monitor
      password: browser-test-only
      host_key_fingerprints: ["SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
    status_files:
      - name: udp
        path: /run/openvpn/server.status
  vici:
    prober: strongswan-vici-tcp
    timeout: 5s
`;

let browser: TestBrowser;
let exporter: TestExporter;

before(async () => {
  browser = await launchBrowser();
  exporter = await startTestExporter(MODULES);
});
after(async () => {
  await browser?.close();
  await exporter?.close();
});
afterEach(() => {
  assert.deepEqual(browser.problems.splice(0), [], 'console errors, page errors or requests off loopback');
});

async function openLanding(path = '/'): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(exporter.url + path);
  return page;
}

async function column(page: Page, table: string, label: string): Promise<string[]> {
  return page.locator(`#${table} tbody td[data-label="${label}"]`).allTextContents();
}

async function waitForResult(page: Page): Promise<void> {
  await page.locator('#probe-outcome').waitFor();
}

describe('against a scripted VICI gateway', () => {
  let charon: ScriptedViciServer;
  let target: string;
  let closedTarget: string;

  before(async () => {
    charon = await startCharonLike(3);
    target = `127.0.0.1:${charon.port}`;
    closedTarget = `127.0.0.1:${await freePort()}`;
  });
  after(async () => {
    await charon?.close();
  });

  test('pick the module, type a target, press Probe: tunnels and users fill in', async () => {
    const page = await openLanding();
    await page.getByLabel('Module').selectOption('vici');
    await page.getByLabel('Target').fill(target);
    await page.getByRole('button', { name: 'Probe' }).click();
    await page.locator('#tunnels tbody tr').first().waitFor();

    assert.match((await page.locator('#probe-outcome').textContent()) ?? '', /^Success/);
    assert.match((await page.locator('#probe-status').textContent()) ?? '', /Probe succeeded in \d+\.\d{3} s: 4 tunnel\(s\), 3 session\(s\)/);
    assert.deepEqual((await column(page, 'tunnels', 'Name')).sort(), ['rw-1', 'rw-eap', 'site-0', 'site-2']);
    const up = page.locator('#tunnels .badge-up').first();
    const down = page.locator('#tunnels .badge-down').first();
    assert.equal(await up.textContent(), 'up');
    assert.equal(await down.textContent(), 'down');
    const colour = (l: typeof up) => l.evaluate((e) => getComputedStyle(e).backgroundColor);
    assert.notEqual(await colour(up), await colour(down), 'states differ in colour as well as in text');

    assert.deepEqual((await column(page, 'sessions', 'User')).sort(), ['gw-0.example', 'gw-2.example', 'user1@eap.example']);
    assert.ok((await column(page, 'sessions', 'Virtual IP')).includes('198.51.100.2'));
    assert.ok((await column(page, 'sessions', 'Remote address')).includes('203.0.113.2:4500'));
    assert.ok((await column(page, 'sessions', 'In')).includes('2.9 KiB'));
    for (const since of await column(page, 'sessions', 'Connected since')) assert.match(since, /\d.* \(\d+s\)$/);
    assert.match((await page.locator('#gateway-info').textContent()) ?? '', /Productcharon.*Version5\.9\.8/);

    await page.getByText('Raw metrics').click();
    assert.match((await page.locator('#raw-metrics pre').textContent()) ?? '', /^probe_success 1$/m);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('target'), target);
    assert.equal(url.searchParams.get('module'), 'vici');
    await page.goBack();
    await page.waitForURL((u) => u.search === '');
    assert.equal(await page.locator('#probe-result').textContent(), '', 'going back to the empty form clears the result');
    await page.close();
  });

  test('the form works from the keyboard alone', async () => {
    const page = await openLanding();
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName || '');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    for (let i = 0; i < 10 && (await focused()) !== 'target'; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(), 'target');
    await page.keyboard.type(target);
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'module');
    for (let i = 0; i < 5 && (await page.locator('#module').inputValue()) !== 'vici'; i++) await page.keyboard.press('ArrowDown');
    assert.equal(await page.locator('#module').inputValue(), 'vici');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'probe-button');
    await page.keyboard.press('Enter');
    await page.locator('#sessions tbody tr').first().waitFor();
    assert.equal(await page.locator('#sessions tbody tr').count(), 3);
    assert.equal(await focused(), 'probe-button', 'focus stays where the user left it');
    const ring = await page.locator('#probe-button').evaluate((e) => getComputedStyle(e).outlineStyle);
    assert.equal(ring, 'solid', 'keyboard focus is visible');
    await page.close();
  });

  test('a failing target shows the reason', async () => {
    const page = await openLanding();
    await page.getByLabel('Module').selectOption('vici');
    await page.getByLabel('Target').fill(closedTarget);
    await page.getByLabel('Target').press('Enter');
    await waitForResult(page);
    const outcome = (await page.locator('#probe-outcome.fail').textContent()) ?? '';
    assert.match(outcome, /^Failure/);
    assert.match(outcome, /Reason: connection refused/);
    assert.match((await page.locator('#probe-status').textContent()) ?? '', /^Probe failed: connection refused/);
    assert.equal(await page.locator('#tunnels').count(), 0);
    await page.close();
  });

  test('a request the exporter refuses shows why, and a hostile target stays text', async () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const page = await browser.newPage();
    page.on('dialog', (d) => {
      browser.problems.push(`dialog opened: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(`${exporter.url}/?target=${encodeURIComponent(hostile)}&module=vici`);
    await waitForResult(page);
    assert.equal(await page.locator('#probe-outcome').textContent(), `Not probedReason: target "${hostile}" has an invalid host name`);
    assert.equal(await page.locator('main img').count(), 0);
    assert.equal(await page.getByLabel('Target').inputValue(), hostile);
    // Chromium logs every 4xx fetch to the console; that one line is the 400 this test asks for, nothing else.
    const logged = browser.problems.splice(0);
    assert.equal(logged.length, 1, logged.join('\n'));
    assert.match(logged[0] ?? '', /^console error .*: Failed to load resource: the server responded with a status of 400/);
    await page.close();
  });

  test('the history lists both probes and its log link opens the log', async () => {
    const page = await openLanding('/history');
    const okRow = page.locator('tbody tr', { hasText: target }).first();
    const failRow = page.locator('tbody tr', { hasText: closedTarget }).first();
    assert.match((await okRow.locator('td[data-label="Result"]').textContent()) ?? '', /^success/);
    // The reason from the documented set, then the words for people.
    assert.match((await failRow.locator('td[data-label="Result"]').textContent()) ?? '', /^failure connection_refused connection refused/);
    assert.equal(await okRow.locator('td[data-label="Module"]').textContent(), 'vici');

    await page.getByLabel('Target contains').fill(closedTarget);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/history\?target=/);
    assert.ok((await page.locator('tbody tr').count()) >= 1);
    assert.equal(await page.locator('tbody tr', { hasText: target }).count(), closedTarget.includes(target) ? 1 : 0);

    await page
      .locator('tbody tr')
      .first()
      .getByRole('link', { name: /^log #\d+$/ })
      .click();
    await page.waitForURL(/logs\?id=\d+$/);
    const log = (await page.locator('#probe-log').textContent()) ?? '';
    assert.match(log, /^\+0\.\d{3}s debug probe budget timeout_seconds=5$/m);
    assert.match(log, /^\+\d+\.\d{3}s error probe failed reason="connection refused/m);
    await page.close();
  });

  test('a bookmarked /?target=&module= probes on load; screenshots at 375 px and 1280 px', async () => {
    const page = await openLanding(`/?target=${encodeURIComponent(target)}&module=vici`);
    await page.locator('#sessions tbody tr').first().waitFor();
    assert.equal(await page.getByLabel('Target').inputValue(), target);
    assert.equal(await page.getByLabel('Module').inputValue(), 'vici');
    assert.equal(await page.locator('#tunnels tbody tr').count(), 4);

    await page.setViewportSize({ width: 1280, height: 900 });
    await screenshot(page, 'landing-1280.png');
    await page.setViewportSize({ width: 375, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at 375 px`);
    await screenshot(page, 'landing-375.png');
    await page.emulateMedia({ colorScheme: 'dark' });
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, 'rgb(17, 20, 24)', 'dark mode follows prefers-color-scheme');
    await screenshot(page, 'landing-375-dark.png');
    await page.close();
  });
});

/** The lab's bypass and drop conns as shunts; the gateway's certificate (key held) and the CA's; the CRL's next update. */
async function assertShuntsAndCertificates(page: Page): Promise<void> {
  const conns = await column(page, 'shunts', 'Conn');
  assert.deepEqual([...conns].sort(), [SHUNTS.drop.conn, SHUNTS.pass.conn].sort());
  assert.equal((await column(page, 'shunts', 'Mode'))[conns.indexOf(SHUNTS.drop.conn)], 'drop');
  const subjects = await column(page, 'certificates', 'Subject');
  assert.ok(subjects.includes(PKI_NAMES.gwCn) && subjects.includes(PKI_NAMES.caCn), subjects.join(', '));
  assert.equal((await column(page, 'certificates', 'Private key'))[subjects.indexOf(PKI_NAMES.gwCn)], 'held');
  assert.match((await column(page, 'certificates', 'Expires'))[subjects.indexOf(PKI_NAMES.gwCn)] ?? '', /^\d{4}-\d\d-\d\d \(in 29d|^\d{4}-\d\d-\d\d \(in 30d/);
  assert.match((await column(page, 'crls', 'Next update'))[0] ?? '', /\(in (20|21)d/);
}

describe('against a real charon (strongSwan lab)', () => {
  let lab: ViciLab;
  before(async () => {
    lab = await startViciLab();
  });
  after(async () => {
    await lab?.stop();
  });

  test('the landing page shows the lab tunnels and its road warriors', async () => {
    const page = await openLanding(`/?target=${encodeURIComponent(lab.target)}&module=vici`);
    await page.locator('#sessions tbody tr').first().waitFor({ timeout: 10_000 });
    const names = await column(page, 'tunnels', 'Name');
    const states = await column(page, 'tunnels', 'State');
    const stateOf = (name: string) => states[names.indexOf(name)] ?? '';
    assert.match(stateOf('site-a'), /^up/);
    assert.match(stateOf('site-b'), /^down/);
    const users = await column(page, 'sessions', 'User');
    for (const user of ['alice', 'bob', 'carol']) assert.ok(users.includes(user), `${user} in ${users.join(', ')}`);
    assert.ok((await column(page, 'sessions', 'Virtual IP')).some((v) => /^198\.51\.100\.1(2[89]|[3-5]\d)$/.test(v)));
    assert.ok(!names.includes(SHUNTS.pass.conn), 'a shunt is not a tunnel');
    await assertShuntsAndCertificates(page);
    await screenshot(page, 'landing-lab-1280.png');
    await page.close();
  });

  test('the sessions page lists the shunts and the certificates and CRL beside the sessions', async () => {
    const page = await openLanding(`/sessions.html?target=${encodeURIComponent(lab.target)}&module=vici`);
    const users = await column(page, 'sessions', 'User');
    for (const user of ['alice', 'bob', 'carol']) assert.ok(users.includes(user), `${user} in ${users.join(', ')}`);
    await assertShuntsAndCertificates(page);
    await screenshot(page, 'sessions-lab-1280.png');
    await page.close();
  });
});

describe('against real wireguard-go (WireGuard lab)', () => {
  let lab: WireguardLab;
  let wgExporter: TestExporter;
  before(async () => {
    lab = await startWireguardLab();
    const q = (x: string) => JSON.stringify(x);
    wgExporter = await startTestExporter(
      [
        'modules:',
        '  wg:',
        '    prober: wireguard-ssh',
        '    timeout: 10s',
        '    ssh:',
        `      username: ${ROOT_USER}`,
        `      private_key: {file: ${q(lab.rootSshd.privateKeyFile)}}`,
        `      known_hosts: ${q(lab.knownHostsFile)}`,
        `    config_dir: ${q(lab.configDir)}`,
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    await wgExporter?.close();
    await lab?.stop();
  });

  test('interfaces and every peer with its name, state and handshake age; the sessions page with keys', async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${wgExporter.url}/?target=${encodeURIComponent(lab.rootTarget)}&module=wg`);
    await page.locator('#wg-peers tbody tr').first().waitFor({ timeout: 15_000 });
    assert.deepEqual((await column(page, 'wg-interfaces', 'Interface')).sort(), ['wg0', 'wg1']);
    const keys = await column(page, 'wg-interfaces', 'Public key');
    assert.ok(keys.includes(lab.publicKeys.wg0) && keys.includes(lab.publicKeys.wg1), keys.join(', '));
    const peers = await column(page, 'wg-peers', 'Peer');
    const ghost = lab.publicKeys.ghost.slice(0, 8);
    assert.deepEqual([...peers].sort(), ['alice', 'bob', lab.publicKeys.carol.slice(0, 8), ghost].sort());
    const states = await column(page, 'wg-peers', 'State');
    const handshakes = await column(page, 'wg-peers', 'Latest handshake');
    for (const [i, name] of peers.entries()) {
      if (name === ghost) {
        assert.equal(states[i], 'never');
        assert.equal(handshakes[i], 'never');
      } else {
        assert.equal(states[i], 'connected', name);
        assert.match(handshakes[i] ?? '', /^(\d+[ms] ?)+ ago$|^0s ago$/, name);
      }
    }
    assert.ok((await column(page, 'wg-peers', 'Public key')).includes(lab.publicKeys.alice));
    const text = await page.locator('main').textContent();
    for (const secret of lab.gatewaySecrets) assert.ok(!text?.includes(secret), 'a private or preshared key on the page');

    await page.goto(`${wgExporter.url}/sessions.html?target=${encodeURIComponent(lab.rootTarget)}&module=wg`);
    const details = (await page.locator('tbody td[data-label="Details"]').allTextContents()).join('\n');
    assert.ok(details.includes(`publicKey: ${lab.publicKeys.alice}`), details);
    assert.match(details, /handshakeAgeSeconds: \d+/);
    await screenshot(page, 'sessions-wireguard-1280.png');
    await page.close();
  });
});
