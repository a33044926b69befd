// The fleet page end to end in real Chromium, fed by real probes: a real charon (the strongSwan
// lab, with its certificates and CRL), the PAN-OS emulator reached with a named auth, and a
// refused port. Rows, sorting, filtering, the keyboard alone, 375 px, the refresh, and the
// notice when more targets were probed than --fleet.max-targets keeps.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, screenshot, type TestBrowser } from '../support/browser.js';
import { startTestExporter, type TestExporter } from '../support/exporter.js';
import { freePort } from '../support/free-port.js';
import { SCENARIOS, startPanosEmulator, type PanosEmulator } from '../support/panos-emulator/index.js';
import { startViciLab, type ViciLab } from './support/strongswan-lab.js';

// The callbacks given to evaluate() run in Chromium; this file is checked without the DOM lib.
interface FocusedElement {
  id: string;
  tagName: string;
  getAttribute(name: string): string | null;
}
declare const document: {
  activeElement: FocusedElement | null;
  documentElement: { scrollWidth: number; clientWidth: number };
};
declare function getComputedStyle(e: unknown): { outlineStyle: string };

const PASSWORD = 'fleet-lab-Secret-5521';

let browser: TestBrowser;
let exporter: TestExporter;
let lab: ViciLab;
let pan: PanosEmulator;
let panTarget: string;
let closedTarget: string;

before(async () => {
  browser = await launchBrowser();
  [lab, pan] = await Promise.all([startViciLab(), startPanosEmulator({ ...SCENARIOS.someInactive, password: PASSWORD })]);
  exporter = await startTestExporter(
    'auths:\n  lab_admin:\n    ssh:\n      username: admin\n' +
      `      password: ${PASSWORD}\n      host_key_fingerprints: ["${pan.hostKeyFingerprint}"]\n` +
      'modules:\n  pan:\n    prober: paloalto-ssh\n    auth: lab_admin\n    timeout: 5s\n  vici:\n    prober: strongswan-vici-tcp\n    timeout: 5s\n',
  );
  panTarget = `127.0.0.1:${pan.port}`;
  closedTarget = `127.0.0.1:${await freePort()}`;
  // The probes Prometheus would make: the page itself probes nothing.
  for (const q of [`module=vici&target=${lab.target}`, `module=pan&target=${panTarget}&auth=lab_admin`, `module=vici&target=${closedTarget}`]) {
    const body = await (await exporter.get(`/probe?${q}`)).text();
    assert.match(body, /^probe_success [01]$/m, q);
  }
});
after(async () => {
  await browser?.close();
  await exporter?.close();
  await Promise.all([lab?.stop(), pan?.close()]);
});
afterEach(() => {
  assert.deepEqual(browser.problems.splice(0), [], 'console errors, page errors or requests off loopback');
});

async function openFleet(base: string, path = '/fleet', width = 1280): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height: 900 });
  await page.goto(base + path);
  return page;
}

const rows = (page: Page) => page.locator('#fleet tbody tr');
const column = (page: Page, label: string) => page.locator(`#fleet tbody td[data-label="${label}"]`).allTextContents();
const sortOf = (page: Page, label: string) => page.locator('#fleet thead th', { hasText: label }).getAttribute('aria-sort');

/** Waits until the redrawn table's header says the column is sorted so. */
async function waitForSort(page: Page, label: string, order: 'ascending' | 'descending'): Promise<void> {
  await page.locator(`#fleet thead th[aria-sort="${order}"]`, { hasText: label }).waitFor({ timeout: 10_000 });
}

/** Waits until the table shows `n` rows (a fetch replaces it). */
async function waitForRows(page: Page, n: number): Promise<void> {
  await page.waitForFunction(
    (want) =>
      (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('#fleet tbody tr').length === want,
    n,
    { timeout: 10_000 },
  );
}

describe('three real targets', () => {
  test('one row each: result and reason, tunnels, users, nearest expiry, links to history and log', async () => {
    const page = await openFleet(exporter.url);
    await waitForRows(page, 3);
    // Failures first by default.
    const targets = await column(page, 'Target');
    assert.equal(targets[0], closedTarget);
    assert.deepEqual(targets.slice(1).sort(), [lab.target, panTarget].sort());
    const cell = async (target: string, label: string) => (await column(page, label))[targets.indexOf(target)] ?? '';

    assert.match(await cell(closedTarget, 'Result'), /^failure connection_refused connection refused/);
    assert.equal(await cell(closedTarget, 'Tunnels up'), '');
    assert.match(await cell(lab.target, 'Result'), /^success$/);
    assert.match(await cell(lab.target, 'Tunnels up'), /^[1-9]\d*$/);
    assert.match(await cell(lab.target, 'Tunnels down'), /^[1-9]\d*$/, 'site-b is down');
    assert.ok(Number(await cell(lab.target, 'Users')) >= 3, 'alice, bob and carol');
    // The lab's CRL is due in 20-21 days, before its certificates (29-30 days).
    assert.match(await cell(lab.target, 'Nearest expiry'), /^in 2[01]d \d+h CRL next update$/);
    assert.equal(await cell(panTarget, 'Auth'), 'lab_admin');
    assert.equal(await cell(panTarget, 'Tunnels up'), '1');
    assert.equal(await cell(panTarget, 'Tunnels down'), '2');
    assert.match(await cell(panTarget, 'Last probe'), /ago$|^just now$/);
    assert.equal(await cell(panTarget, 'Source'), 'fetched');
    assert.ok(!(await page.content()).includes(PASSWORD), 'the auth by name, never its password');

    const row = rows(page).nth(targets.indexOf(lab.target));
    await row.getByRole('link', { name: /^Log #\d+$/ }).click();
    await page.waitForURL(/logs\?id=\d+$/);
    assert.match((await page.locator('#probe-log').textContent()) ?? '', /probe succeeded/);
    await page.goBack();
    await waitForRows(page, 3);
    await rows(page).nth(0).getByRole('link', { name: 'History' }).click();
    await page.waitForURL(/history\?target=/);
    assert.equal(await page.getByLabel('Target contains').inputValue(), closedTarget);
    assert.match((await page.locator('tbody td[data-label="Result"]').first().textContent()) ?? '', /connection_refused/);
    await screenshot(page, 'fleet-history-link.png');
    await page.close();
  });

  test('sort by a column header (aria-sort follows), filter by module, text and failing; the URL keeps the view', async () => {
    const page = await openFleet(exporter.url);
    await waitForRows(page, 3);
    assert.equal(await sortOf(page, 'Result'), 'ascending');
    await page.getByRole('button', { name: 'Target', exact: true }).click();
    await waitForSort(page, 'Target', 'ascending');
    await waitForRows(page, 3);
    assert.equal(await sortOf(page, 'Result'), 'none');
    const asc = await column(page, 'Target');
    assert.deepEqual(
      asc,
      [...asc].sort((a, b) => a.localeCompare(b)),
    );
    await page.getByRole('button', { name: 'Target', exact: true }).click();
    await waitForSort(page, 'Target', 'descending');
    await waitForRows(page, 3);
    assert.deepEqual(await column(page, 'Target'), [...asc].reverse());

    await page.getByLabel('Module').selectOption('pan');
    await waitForRows(page, 1);
    assert.deepEqual(await column(page, 'Target'), [panTarget]);
    assert.match((await page.locator('#fleet-count').textContent()) ?? '', /^1 entry matching, of 3; 1 failing in all\.$/);
    await page.getByLabel('Module').selectOption('');
    await waitForRows(page, 3);
    await page.getByLabel('Only failing').check();
    await waitForRows(page, 1);
    assert.deepEqual(await column(page, 'Target'), [closedTarget]);
    await page.getByLabel('Only failing').uncheck();
    await waitForRows(page, 3);
    await page.getByLabel('Target contains').fill(String(pan.port));
    await waitForRows(page, 1);
    assert.deepEqual(await column(page, 'Target'), [panTarget]);
    await page.getByLabel('Target contains').fill('no-such-target');
    await page.locator('#fleet-empty').waitFor();
    assert.equal(await page.locator('#fleet-empty').textContent(), 'No target matches the filter.');

    // The view is a URL: opening it again shows the same.
    await page.getByLabel('Target contains').fill(String(pan.port));
    await waitForRows(page, 1);
    const again = await openFleet(exporter.url, new URL(page.url()).pathname + new URL(page.url()).search);
    await waitForRows(again, 1);
    assert.equal(await again.getByLabel('Target contains').inputValue(), String(pan.port));
    assert.equal(await sortOf(again, 'Target'), 'descending');
    await again.close();
    await page.close();
  });

  test('the keyboard alone: filter with the checkbox, sort with a header button; focus stays and shows', async () => {
    const page = await openFleet(exporter.url);
    await waitForRows(page, 3);
    const focused = () =>
      page.evaluate(() => document.activeElement?.id || document.activeElement?.getAttribute('data-sort') || document.activeElement?.tagName || '');
    for (let i = 0; i < 20 && (await focused()) !== 'fleet-failing'; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(), 'fleet-failing');
    await page.keyboard.press('Space');
    await waitForRows(page, 1);
    assert.match((await page.locator('#fleet-status').textContent()) ?? '', /^1 entry matching, of 3/);
    await page.keyboard.press('Space');
    await waitForRows(page, 3);
    for (let i = 0; i < 20 && (await focused()) !== 'users'; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(), 'users', 'the Users header is a button in the tab order');
    await page.keyboard.press('Enter');
    await waitForSort(page, 'Users', 'descending');
    await waitForRows(page, 3);
    assert.equal(await focused(), 'users', 'focus stays on the header after the table is redrawn');
    const users = (await column(page, 'Users')).map((u) => (u === '' ? -1 : Number(u)));
    assert.deepEqual(
      users,
      [...users].sort((a, b) => b - a),
    );
    const ring = await page.locator('button[data-sort="users"]').evaluate((e) => getComputedStyle(e).outlineStyle);
    assert.equal(ring, 'solid', 'keyboard focus is visible');
    await page.keyboard.press('Enter');
    await waitForSort(page, 'Users', 'ascending');
    await waitForRows(page, 3);
    await page.close();
  });

  test('it refreshes itself, and pauses', async () => {
    const page = await openFleet(exporter.url);
    await waitForRows(page, 3);
    const extra = `127.0.0.1:${await freePort()}`;
    await exporter.get(`/probe?module=vici&target=${extra}`);
    // The next refresh, within 15 s, brings the new probe without a reload.
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('#fleet tbody tr').length === 4,
      undefined,
      { timeout: 25_000 },
    );
    await page.getByRole('button', { name: 'Pause auto-refresh' }).click();
    assert.match((await page.locator('#fleet-updated').textContent()) ?? '', /\(auto-refresh paused\)$/);
    await page.getByRole('button', { name: 'Resume auto-refresh' }).waitFor();
    await page.getByRole('button', { name: 'Refresh now' }).click();
    await waitForRows(page, 4);
    await page.getByRole('button', { name: 'Resume auto-refresh' }).click();
    await page.getByRole('button', { name: 'Pause auto-refresh' }).waitFor();
    await page.close();
  });

  test('at 375 px: cards, sort buttons above them, no sideways scrolling; screenshots', async () => {
    const page = await openFleet(exporter.url, '/fleet', 375);
    await waitForRows(page, 4);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at 375 px`);
    const sortButton = page.getByRole('button', { name: 'Users', exact: true });
    assert.ok(await sortButton.isVisible(), 'sorting stays possible at 375 px');
    await sortButton.click();
    await waitForSort(page, 'Users', 'descending');
    await waitForRows(page, 4);
    const overflowAfter = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflowAfter <= 0, `sideways by ${overflowAfter}px after sorting`);
    await screenshot(page, 'fleet-375.png');
    await page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(page, 'fleet-375-dark.png');
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.emulateMedia({ colorScheme: 'light' });
    await screenshot(page, 'fleet-1280.png');
    await page.close();
  });
});

describe('more targets than --fleet.max-targets', () => {
  let small: TestExporter;
  before(async () => {
    small = await startTestExporter('modules:\n  vici:\n    prober: strongswan-vici-tcp\n    timeout: 2s\n', { fleetMaxTargets: 5 });
    // Eight distinct refused targets on loopback: the three probed first are dropped.
    for (let i = 1; i <= 8; i++) await small.get(`/probe?module=vici&target=127.0.0.${i + 10}:${closedTarget.split(':')[1]}`);
  });
  after(async () => {
    await small?.close();
  });

  test('the page shows the newest five and says how many older targets were dropped', async () => {
    const page = await openFleet(small.url);
    await waitForRows(page, 5);
    const notice = page.locator('#fleet-dropped');
    assert.ok(await notice.isVisible());
    assert.equal(await notice.textContent(), '3 older targets dropped: only the 5 most recently probed are kept (--fleet.max-targets).');
    const targets = await column(page, 'Target');
    for (let i = 1; i <= 3; i++) assert.ok(!targets.some((t) => t.startsWith(`127.0.0.${i + 10}:`)), `target ${i} was dropped`);
    await page.setViewportSize({ width: 375, height: 800 });
    await screenshot(page, 'fleet-dropped-375.png');
    await page.close();
  });
});
