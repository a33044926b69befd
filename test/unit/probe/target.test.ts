import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTarget } from '../../../src/probe/target.js';
import { ProbeRefusal } from '../../../src/probe/refusal.js';
import { probeTimeoutMs } from '../../../src/probe/request.js';
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
    assert.throws(
      () => parseTarget(raw, 22),
      (err: unknown) => err instanceof ProbeRefusal && err.status === 400 && reason.test(err.message),
      raw,
    );
  }
});

test('timeout: module cap, scrape header less offset, bad header', () => {
  assert.equal(probeTimeoutMs(10_000, undefined, 0.5), 10_000);
  assert.equal(probeTimeoutMs(10_000, '5', 0.5), 4_500);
  assert.equal(probeTimeoutMs(3_000, '30', 0.5), 3_000);
  assert.equal(probeTimeoutMs(3_000, '0.4', 0.5), 3_000);
  assert.throws(
    () => probeTimeoutMs(3_000, 'abc', 0.5),
    (err: unknown) => err instanceof ProbeRefusal && err.status === 400 && /not a positive number/.test(err.message),
  );
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
  assert.throws(() => parseFlags(['--nope']), /nope/);
  assert.throws(() => parseFlags(['--log.level=loud']), /log\.level/);
  assert.deepEqual(parseListenAddress('[::1]:80'), { host: '::1', port: 80 });
  assert.throws(() => parseListenAddress('9234'), /is not \[host\]:port/);
});

test('the SSH pool is at least twice the probe cap, so a probe never fails on a full pool', () => {
  const ok = parseFlags([]);
  assert.ok(typeof ok === 'object');
  assert.equal(ok.sshMaxConnections, 1024);
  assert.equal(ok.maxConcurrency, 200);
  assert.throws(() => parseFlags(['--ssh.max-connections=100']), /--ssh\.max-connections \(100\) must be at least twice --probe\.max-concurrency \(200\)/);
  assert.throws(() => parseFlags(['--probe.max-per-target=0']), /--probe\.max-per-target must be a whole number >= 1/);
});
