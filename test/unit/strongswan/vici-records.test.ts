import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCharonTime, viciUptime } from '../../../src/vendors/strongswan/vici-records.js';

const now = Date.UTC(2026, 10, 24, 12, 0, 0) / 1000;
const since = (secondsAgo: number, zoneOffsetHours = 0) => {
  const d = new Date((now - secondsAgo + zoneOffsetHours * 3600) * 1000);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${mon} ${d.getUTCDate()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
};

test('charon start times parse as UTC', () => {
  assert.equal(parseCharonTime('Nov 24 12:00:00 2026'), now);
  assert.equal(parseCharonTime('Nov  4 06:40:12 2026'), Date.UTC(2026, 10, 4, 6, 40, 12) / 1000);
  assert.equal(parseCharonTime('Foo 24 12:00:00 2026'), undefined);
});

test('uptime: exact when the gateway runs on UTC', () => {
  assert.equal(viciUptime({ running: '45 minutes', since: since(2712) }, now), 2712);
  assert.equal(viciUptime({ running: '7 seconds', since: since(7) }, now), 7);
});

test('uptime: a gateway on another zone falls back to the running lower bound, never a wrong exact value', () => {
  // New York (UTC-5) prints its local start time: read as UTC it is 5 hours off.
  assert.equal(viciUptime({ running: '2 seconds', since: since(2, -5) }, now), 2);
  // Berlin (UTC+1): the start would lie in the future.
  assert.equal(viciUptime({ running: '3 hours', since: since(3 * 3600 + 100, 1) }, now), 3 * 3600);
  assert.equal(viciUptime({ running: '3 days' }, now), 3 * 86400);
  assert.equal(viciUptime(undefined, now), undefined);
});
