import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Client } from 'ssh2';
import { setsNoDelayItself } from '../../../src/transport/ssh/nodelay.js';

/** ssh2 keeps the software part of the server's identification line ("SSH-2.0-<software> <comments>"). */
const serverSaying = (software: unknown) => ({ _remoteVer: software }) as unknown as Client;

test('only OpenSSH 10.1 and later count as turning Nagle off by themselves', () => {
  const cases: [unknown, boolean][] = [
    ['OpenSSH_9.2p1', false],
    ['OpenSSH_10.0p2', false],
    ['OpenSSH_10.1', true],
    ['OpenSSH_10.2p1', true],
    ['OpenSSH_11.0', true],
    ['OpenSSH_7.4', false],
    // Other servers: unknown behaviour, so the one command is run.
    ['dropbear_2022.83', false],
    ['ssh2js1.17.0', false],
    [undefined, false],
  ];
  for (const [software, expected] of cases) assert.equal(setsNoDelayItself(serverSaying(software)), expected, String(software));
});
