import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseLoadStats, parseManagementState, parseManagementVersion } from '../../../src/vendors/openvpn/mgmt-replies.js';
import { ParseError } from '../../../src/util/errors.js';

/** One answer's lines as the session hands them over: CR LF gone, END gone. */
const answer = (name: string): string[] =>
  readFileSync(new URL(`../../fixtures/openvpn/mgmt/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l !== '' && l !== 'END');

describe('management `version`', () => {
  it('2.6.14: the release and the interface version', () => {
    const v = parseManagementVersion(answer('version-2.6.txt'));
    assert.equal(v.version, '2.6.14');
    assert.equal(v.managementVersion, 5);
    assert.match(v.title ?? '', /^OpenVPN 2\.6\.14 x86_64-pc-linux-gnu/);
  });
  it('2.4.12: management version 1', () => {
    assert.deepEqual({ ...parseManagementVersion(answer('version-2.4.txt')), title: undefined }, { version: '2.4.12', managementVersion: 1, title: undefined });
  });
  it('2.7.0: a line it does not know is skipped', () => {
    const v = parseManagementVersion(answer('version-2.7-extra-line.txt'));
    assert.equal(v.version, '2.7.0');
    assert.equal(v.managementVersion, 6);
  });
  it('an answer without either version is a ParseError, not a guess', () => {
    assert.throws(() => parseManagementVersion(['hello']), ParseError);
  });
});

describe('management `state`', () => {
  it('2.6.14 server: CONNECTED with its tunnel address, empty remote fields left out', () => {
    assert.deepEqual(parseManagementState(answer('state-server-2.6.txt')), {
      since: 1795502820,
      name: 'CONNECTED',
      description: 'SUCCESS',
      localIpv4: '198.51.100.129',
    });
  });
  it('2.4.12 client: RECONNECTING with its reason', () => {
    assert.deepEqual(parseManagementState(answer('state-client-reconnecting-2.4.txt')), {
      since: 1795502900,
      name: 'RECONNECTING',
      description: 'ping-restart',
    });
  });
  it('2.7.0 client: every documented field, and one more skipped', () => {
    assert.deepEqual(parseManagementState(answer('state-client-2.7-extra-field.txt')), {
      since: 1795502820,
      name: 'CONNECTED',
      description: 'SUCCESS',
      localIpv4: '198.51.100.130',
      remoteAddress: '192.0.2.1',
      remotePort: 1194,
      localAddress: '192.0.2.11',
      localPort: 40312,
    });
  });
  it('state history (`state all`): the newest line wins; lines that are not states are skipped', () => {
    const s = parseManagementState(['1795502800,CONNECTING,,,,,,,', 'some line', '1795502820,CONNECTED,SUCCESS,198.51.100.1,,,,,']);
    assert.equal(s.name, 'CONNECTED');
    assert.equal(s.since, 1795502820);
  });
  it('no state line, or a state that is not a word, is a ParseError', () => {
    assert.throws(() => parseManagementState([]), ParseError);
    assert.throws(() => parseManagementState(['1795502820,<b>,x']), ParseError);
  });
});

describe('management `load-stats`', () => {
  it('2.6.14: clients and the daemon-wide byte counters', () => {
    const text = answer('load-stats-2.6.txt')[0]?.replace(/^SUCCESS:\s*/, '') ?? '';
    assert.deepEqual(parseLoadStats(text), { clients: 3, bytesIn: 184223, bytesOut: 190871, other: {} });
  });
  it('a key it does not know is kept aside', () => {
    const text = answer('load-stats-extra-key.txt')[0]?.replace(/^SUCCESS:\s*/, '') ?? '';
    assert.deepEqual(parseLoadStats(text), { clients: 0, bytesIn: 0, bytesOut: 0, other: { dco_bytes: '0' } });
  });
  it('a missing or non-numeric counter is a ParseError', () => {
    assert.throws(() => parseLoadStats('nclients=1,bytesin=2'), ParseError);
    assert.throws(() => parseLoadStats('nclients=x,bytesin=2,bytesout=3'), ParseError);
  });
});
