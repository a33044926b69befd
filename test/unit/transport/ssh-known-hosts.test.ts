import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fingerprintOf } from '../../../src/transport/ssh/host-key.js';
import { checkKnownHosts, linesForHost, parseKnownHosts } from '../../../src/transport/ssh/known-hosts.js';
import { testKeyPair } from '../../support/sshd.js';

function newKey(): { type: string; b64: string; blob: Buffer; pub: string } {
  const pub = testKeyPair().public;
  const [type = '', b64 = ''] = pub.split(' ');
  return { type, b64, blob: Buffer.from(b64, 'base64'), pub };
}

const a = newKey();
const b = newKey();

test('fingerprints match what ssh-keygen -lf prints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpnexp-kh-'));
  try {
    writeFileSync(join(dir, 'k.pub'), `${a.pub}\n`);
    const out = execFileSync('ssh-keygen', ['-lf', join(dir, 'k.pub')], { encoding: 'utf8' });
    assert.equal(out.split(' ')[1], fingerprintOf(a.blob));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('plain entries match the host on port 22 only; other ports need [host]:port', () => {
  const lines = parseKnownHosts(`# comment\n\n10.0.0.1 ${a.type} ${a.b64}\n[10.0.0.1]:2222 ${a.type} ${b.b64}\n`);
  assert.deepEqual(checkKnownHosts(lines, '10.0.0.1', 22, a.blob), { kind: 'trusted' });
  assert.deepEqual(checkKnownHosts(lines, '10.0.0.1', 2222, b.blob), { kind: 'trusted' });
  assert.deepEqual(checkKnownHosts(lines, '10.0.0.1', 2222, a.blob), { kind: 'unknown', others: [a.type] });
  assert.deepEqual(checkKnownHosts(lines, '10.0.0.2', 22, a.blob), { kind: 'unknown', others: [] });
});

test('comma-separated host lists, wildcards and negations', () => {
  const lines = parseKnownHosts(`gw.example,[192.0.2.7]:830 ${a.type} ${a.b64}\n*.vpn.example,!bad.vpn.example ${a.type} ${b.b64}\n`);
  assert.equal(checkKnownHosts(lines, 'GW.example', 22, a.blob).kind, 'trusted');
  assert.equal(checkKnownHosts(lines, '192.0.2.7', 830, a.blob).kind, 'trusted');
  assert.equal(checkKnownHosts(lines, 'fw1.vpn.example', 22, b.blob).kind, 'trusted');
  assert.equal(checkKnownHosts(lines, 'bad.vpn.example', 22, b.blob).kind, 'unknown');
});

test('hashed entries written by ssh-keygen -H match', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpnexp-kh-'));
  try {
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `[127.0.0.5]:2200 ${a.type} ${a.b64}\ngw.example ${b.type} ${b.b64}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /gw\.example|127\.0\.0\.5/);
    const lines = parseKnownHosts(text);
    assert.equal(checkKnownHosts(lines, '127.0.0.5', 2200, a.blob).kind, 'trusted');
    assert.equal(checkKnownHosts(lines, 'gw.example', 22, b.blob).kind, 'trusted');
    assert.equal(checkKnownHosts(lines, '127.0.0.5', 22, a.blob).kind, 'unknown');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('@revoked overrides a trusting line; @cert-authority never vouches for a plain key', () => {
  const lines = parseKnownHosts(`gw.example ${a.type} ${a.b64}\n@revoked * ${a.type} ${a.b64}\n@cert-authority gw.example ${b.type} ${b.b64}\n`);
  assert.deepEqual(checkKnownHosts(lines, 'gw.example', 22, a.blob), { kind: 'revoked' });
  assert.deepEqual(checkKnownHosts(lines, 'gw.example', 22, b.blob), { kind: 'unknown', others: [a.type] });
});

test('garbage lines are skipped rather than fatal', () => {
  const lines = parseKnownHosts(`nonsense\n@bogus x y z\nonlyhost ssh-ed25519\ngw.example ${a.type} ${a.b64}\n`);
  assert.equal(lines.length, 1);
});

test('linesForHost keeps exactly the lines about one host, and every verdict on them is the same', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpnexp-kh-'));
  try {
    const file = join(dir, 'known_hosts');
    const fleet = Array.from({ length: 300 }, (_, i) => `[198.51.100.${i % 250}]:${2200 + Math.floor(i / 250)} ${b.type} ${b.b64}`);
    writeFileSync(
      file,
      `${[
        ...fleet,
        `gw.example,*.vpn.example,!bad.vpn.example ${a.type} ${a.b64}`,
        `@revoked fw1.vpn.example ${b.type} ${b.b64}`,
        `[192.0.2.9]:830 ${a.type} ${a.b64}`,
      ].join('\n')}\n`,
    );
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const all = parseKnownHosts(readFileSync(file, 'utf8'));
    const cases: [string, number, number][] = [
      ['198.51.100.7', 2200, 1],
      ['198.51.100.7', 2201, 1],
      ['198.51.100.7', 22, 0],
      ['gw.example', 22, 1],
      ['fw1.vpn.example', 22, 2],
      ['bad.vpn.example', 22, 0],
      ['192.0.2.9', 830, 1],
    ];
    for (const [host, port, count] of cases) {
      const mine = linesForHost(all, host, port);
      assert.equal(mine.length, count, `${host}:${port}`);
      for (const key of [a.blob, b.blob]) assert.deepEqual(checkKnownHosts(mine, host, port, key), checkKnownHosts(all, host, port, key));
      // Its own copy of the key, not a view of the parser's shared slab.
      for (const line of mine) assert.equal(line.key.byteLength, line.key.buffer.byteLength);
    }
  } finally {
    rmSync(dir, { recursive: true });
  }
});
