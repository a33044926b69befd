import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTarget } from '../../../src/probe/target.js';
import { probeTimeoutMs } from '../../../src/probe/timeout.js';
import { parseFlags, parseListenAddress } from '../../../src/cli/flags.js';

test('targets: host, host:port, IPv6 with and without brackets', () => {
  assert.deepEqual(parseTarget('gw1.example.net', 4502), { host: 'gw1.example.net', port: 4502, raw: 'gw1.example.net' });
  assert.deepEqual(parseTarget('192.0.2.1:14502', 4502), { host: '192.0.2.1', port: 14502, raw: '192.0.2.1:14502' });
  assert.deepEqual(parseTarget('[2001:db8::1]:22', 4502), { host: '2001:db8::1', port: 22, raw: '[2001:db8::1]:22' });
  assert.deepEqual(parseTarget('2001:db8::1', 22), { host: '2001:db8::1', port: 22, raw: '2001:db8::1' });
});

test('bad targets are refused with a reason', () => {
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['host:0', /outside 1-65535/],
    ['host:70000', /outside/],
    ['host:http', /invalid port/],
    ['a b', /invalid host name/],
    ['http://x', /not host\[:port\]|invalid/],
    ['[::1', /unclosed/],
    ['[nope]:1', /no IPv6/],
    ['x'.repeat(400), /longer than 300/],
    ['host\r\nX-Evil: 1', /invalid host name/],
  ];
  for (const [raw, reason] of bad) {
    const r = parseTarget(raw, 22);
    assert.equal(typeof r, 'string', raw);
    assert.match(r as string, reason, raw);
  }
});

test('timeout: module cap, scrape header less offset, bad header', () => {
  assert.equal(probeTimeoutMs(10_000, undefined, 0.5), 10_000);
  assert.equal(probeTimeoutMs(10_000, '5', 0.5), 4_500);
  assert.equal(probeTimeoutMs(3_000, '30', 0.5), 3_000);
  assert.equal(probeTimeoutMs(3_000, '0.4', 0.5), 3_000);
  assert.match(probeTimeoutMs(3_000, 'abc', 0.5) as string, /not a positive number/);
});

test('flags in Prometheus style', () => {
  const f = parseFlags(['--web.listen-address=127.0.0.1:9999', '--config.file=x.yaml', '--log.format=json', '--timeout-offset=1']);
  assert.ok(typeof f === 'object');
  assert.equal(f.listenHost, '127.0.0.1');
  assert.equal(f.listenPort, 9999);
  assert.equal(f.configFile, 'x.yaml');
  assert.equal(f.logFormat, 'json');
  assert.equal(f.timeoutOffsetSeconds, 1);
  const d = parseFlags([]);
  assert.ok(typeof d === 'object');
  assert.equal(d.listenHost, undefined);
  assert.equal(d.listenPort, 9234);
  assert.match(parseFlags(['--nope']) as string, /nope/);
  assert.match(parseFlags(['--log.level=loud']) as string, /log\.level/);
  assert.deepEqual(parseListenAddress('[::1]:80'), { host: '::1', port: 80 });
  assert.equal(typeof parseListenAddress('9234'), 'string');
});

test('the SSH pool is at least twice the probe cap, so a probe never fails on a full pool', () => {
  const ok = parseFlags([]);
  assert.ok(typeof ok === 'object');
  assert.equal(ok.sshMaxConnections, 1024);
  assert.equal(ok.maxConcurrency, 200);
  assert.match(parseFlags(['--ssh.max-connections=100']) as string, /--ssh\.max-connections \(100\) must be at least twice --probe\.max-concurrency \(200\)/);
  assert.match(parseFlags(['--probe.max-per-target=0']) as string, /--probe\.max-per-target must be a whole number >= 1/);
});
