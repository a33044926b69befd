// wg show all dump through the filter the prober runs on the gateway: the very script it sends,
// run here by a real sh and awk with a fake `wg` on PATH that prints a fixture. What the script
// prints is what an SSH gateway would send back, so every assertion on it is one on the bytes
// the exporter receives.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CONFIG_FILTER_AWK, dumpClock, parseWgConfigNames, parseWgDump, type WgInterfaceRecord } from '../../../src/vendors/wireguard/show.js';
import { wireguardSections, wireguardSsh } from '../../../src/vendors/wireguard/ssh.js';
import { buildSectionScript, splitSections } from '../../../src/transport/ssh/sections.js';
import type { SshTransport } from '../../../src/transport/ssh/types.js';
import { createHttpsTransport } from '../../../src/transport/https/client.js';
import { CapturingProbeLog } from '../../../src/log/probe-log.js';
import { ParseError, ProbeError } from '../../../src/util/errors.js';

const fixturePath = (name: string): string => new URL(`../../fixtures/wireguard/${name}`, import.meta.url).pathname;
const fixture = (name: string): string => readFileSync(fixturePath(name), 'utf8');

const A = 'Gs+urE9i6yncwNKW9hf+EcNrW2Hhoae5Bt1EB0a3jXQ=';
const B = '8NY/I2RMIstg4iNLhgoM7f0KjpEFuQtL05Hz+nJ6jFg=';
const C = 'IZkTfJ+Me8LVd/7RDOm1XNSvHzWjpDKE5TBuFxEZMnY=';
const D = 'AFJapbZZ3cvCgrEN2+tfnsD++zmz+r5bw+SgNXynDgk=';
const S0 = 'BY/JehHuk2BznHuTAwhuTAPQHJ/Gkea13gQW+COxzUQ=';
const S1 = 'dMXA1nZef0EScBUYrcWED1aTHiAf9AEvn+7y3VXhT08=';
/** Every private and preshared key in the dump fixtures and the config files below. */
const SECRETS = [
  'ULV7BPFLjJam//K4RZSJ4fbD7CV/6Xr/NxVA6ffm1ls=',
  'aJicWqDQc8DrKCVp6dEO4qP8r+O1T0/mgfBGvUbZxko=',
  'u0JZxzEEe/NEFHWo7SfpduuxSStZ8emLMuKuxFhp4Uk=',
  'E6fbPqOaKrN/dWrIKc2uCpFUGuBR73tmHuKKz+Wc66E=',
  'oJA0iXkNtM4Whas+JGThR38I1bjm05idfEwbUkq64EQ=',
  'mMsQOksAEHytpCp8s1iHgx6aItvGyPANd3HZ/qv4JUw=',
];

/** No 10-character run of any secret (a key cut or split is still a leak). */
function assertNoKeyBytes(out: string): void {
  for (const s of SECRETS) {
    for (let i = 0; i + 10 <= s.length; i++) assert.ok(!out.includes(s.slice(i, i + 10)), `bytes of a secret key left the gateway: ${s.slice(i, i + 10)}`);
  }
}

const byName = (ifaces: WgInterfaceRecord[], name: string): WgInterfaceRecord => {
  const i = ifaces.find((x) => x.name === name);
  assert.ok(i, `interface ${name}`);
  return i;
};

let dir: string;
let bin: string;
let confDir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vpnx-wg-dump-'));
  bin = join(dir, 'bin');
  confDir = join(dir, 'etc wireguard');
  mkdirSync(bin);
  mkdirSync(confDir);
  // A fake wg: the fixture named in $WG_FIXTURE for dump (its "#" notes dropped), stderr and exit
  // status from $WG_STDERR and $WG_EXIT. Fake awk (for the "no awk" case) lives in its own dir.
  writeFileSync(
    join(bin, 'wg'),
    [
      '#!/bin/sh',
      'case "$*" in',
      '  --version) echo "wireguard-tools v1.0.20210914 - https://git.zx2c4.com/wireguard-tools/" ;;',
      '  "show all dump") grep -v "^#" "$WG_FIXTURE"; [ -n "$WG_STDERR" ] && echo "$WG_STDERR" >&2 ;;',
      '  *) echo "fake wg: $*" >&2; exit 64 ;;',
      'esac',
      '[ -n "$WG_EXIT" ] || WG_EXIT=0',
      'exit "$WG_EXIT"',
      '',
    ].join('\n'),
  );
  chmodSync(join(bin, 'wg'), 0o755);
  // The transport never reads them: exec runs here.
  writeFileSync(join(dir, 'id'), 'not read\n');
  writeFileSync(join(dir, 'known_hosts'), '');
  mkdirSync(join(dir, 'noawk'));
  writeFileSync(join(dir, 'noawk', 'awk'), '#!/bin/sh\necho "awk: not found" >&2\nexit 127\n');
  chmodSync(join(dir, 'noawk', 'awk'), 0o755);
  writeFileSync(
    join(confDir, 'wg0.conf'),
    [
      '[Interface]',
      `PrivateKey = ${SECRETS[0]}`,
      '',
      '# Name = alice',
      '[Peer]',
      `PublicKey = ${A}`,
      `PresharedKey = ${SECRETS[2]}`,
      '',
      '[Peer]',
      `PublicKey = ${B}`,
      '',
      '',
    ].join('\n'),
  );
  // A line that tries to forge the start of wg1's file from inside wg0's is filtered, not obeyed.
  writeFileSync(
    join(confDir, 'wg1.conf'),
    ['@@ wg0', '[Interface]', `PrivateKey=${SECRETS[1]}`, '[Peer]', '# friendly_name = dave', `PublicKey = ${D}`, `PresharedKey = ${SECRETS[3]}`, ''].join(
      '\n',
    ),
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

interface GatewayRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

/** Runs a command as the gateway would: sh, the fake wg first on PATH. */
function onGateway(command: string, env: Record<string, string> = {}, extraPath: string[] = []): GatewayRun {
  const r = spawnSync('sh', ['-c', command], {
    encoding: 'utf8',
    cwd: '/',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, PATH: [...extraPath, bin, process.env.PATH].join(':'), WG_FIXTURE: fixturePath('dump-1.0.20210914.txt'), ...env },
  });
  assertNoKeyBytes(r.stdout + r.stderr);
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.status };
}

function sectionsOnGateway(prefix: string, env: Record<string, string> = {}, extraPath: string[] = []) {
  const sections = wireguardSections({ command_prefix: prefix, read_config: true, config_dir: confDir });
  const out = onGateway(buildSectionScript(sections, 'vpnx-test'), env, extraPath).stdout;
  return splitSections(
    out,
    'vpnx-test',
    sections.map((s) => s.id),
  );
}

/** An SshTransport whose exec runs the command here, through onGateway. */
function localTransport(env: Record<string, string> = {}, extraPath: string[] = []): SshTransport {
  const unused = () => Promise.reject(new Error('unused'));
  return {
    exec: async (_e, command) => onGateway(command, env, extraPath),
    openShell: unused,
    openStreamLocal: unused,
    execStream: unused,
    stats: () => ({}) as ReturnType<SshTransport['stats']>,
    close: async () => undefined,
  };
}

async function probeLocally(env: Record<string, string> = {}, extraPath: string[] = [], prefix = '') {
  const options = wireguardSsh.optionsSchema.parse({
    ssh: { username: 'monitor', private_key: { file: join(dir, 'id') }, known_hosts: join(dir, 'known_hosts') },
    command_prefix: prefix,
    config_dir: confDir,
    // The fixture's handshakes are fixed times: all but B's count as live against any clock.
    connected_within: '87600h',
  });
  return wireguardSsh.probe({
    target: { host: '192.0.2.1', port: 22, raw: '192.0.2.1' },
    options,
    signal: AbortSignal.timeout(10_000),
    log: new CapturingProbeLog(undefined),
    services: { ssh: localTransport(env, extraPath), https: createHttpsTransport() },
  });
}

describe('wg show all dump, filtered on the gateway', () => {
  it('reads wireguard-tools 1.0.20210914 dump: interfaces, peers, (none), never, off, fwmark; no key byte leaves', () => {
    for (const prefix of ['', 'env']) {
      const results = sectionsOnGateway(prefix);
      const dump = results.get('dump');
      assert.equal(dump?.exitCode, 0, dump?.output);
      const out = dump?.output ?? '';
      const configAt = out.search(/^@@ /m);
      assert.ok(configAt > 0, 'the config files follow the dump');
      const { interfaces, skippedLines } = parseWgDump(out.slice(0, configAt));
      assert.equal(skippedLines, 0);
      // The clock comes from awk's srand(), not from a date process.
      const clock = dumpClock(dump?.output ?? '') ?? 0;
      assert.ok(Math.abs(clock - Date.now() / 1000) < 600, `@now ${clock}`);
      assert.deepEqual(
        interfaces.map((i) => [i.name, i.publicKey, i.listenPort, i.peers.length]),
        [
          ['wg0', S0, 51820, 3],
          ['wg1', S1, 51821, 1],
          ['wg2', undefined, 0, 0],
        ],
      );
      assert.deepEqual(byName(interfaces, 'wg0').peers, [
        {
          publicKey: A,
          endpoint: '192.0.2.11:40001',
          allowedIps: ['198.51.100.2/32', '203.0.113.16/28'],
          latestHandshake: 1796180000,
          rxBytes: 123456,
          txBytes: 654321,
          persistentKeepalive: 25,
        },
        { publicKey: B, allowedIps: ['198.51.100.3/32'], latestHandshake: undefined, rxBytes: 0, txBytes: 0, persistentKeepalive: undefined },
        {
          publicKey: C,
          endpoint: '[2001:db8::c]:51820',
          allowedIps: [],
          latestHandshake: 1796179000,
          rxBytes: 42,
          txBytes: 9000000000,
          persistentKeepalive: undefined,
        },
      ]);
      assert.deepEqual(
        byName(interfaces, 'wg1').peers.map((p) => [p.publicKey, p.endpoint, p.persistentKeepalive]),
        [[D, '198.51.100.7:51820', 60]],
      );
      // The same awk read both files (itself, or through the prefix's cat); a forged start was filtered.
      const names = parseWgConfigNames(out.slice(configAt));
      assert.deepEqual(Object.fromEntries(names.get('wg0') ?? []), { [A]: 'alice' }, prefix);
      assert.deepEqual(Object.fromEntries(names.get('wg1') ?? []), { [D]: 'dave' }, prefix);
    }
  });

  it('a wg with more columns, unknown lines and 200,000-character lines: named fields only, no key byte', () => {
    const results = sectionsOnGateway('', { WG_FIXTURE: fixturePath('dump-future-columns.txt') });
    const dump = results.get('dump');
    assert.equal(dump?.exitCode, 0, dump?.output.slice(0, 300));
    assert.ok((dump?.output.length ?? 0) < 2000, 'the long line did not come through');
    const out = dump?.output ?? '';
    const { interfaces, skippedLines } = parseWgDump(out.slice(0, out.search(/^@@ /m)));
    assert.ok(skippedLines >= 4, `skipped ${skippedLines}`);
    assert.equal(byName(interfaces, 'wg0').publicKey, S0);
    assert.equal(byName(interfaces, 'wg0').listenPort, 51820);
    const peers = byName(interfaces, 'wg0').peers;
    assert.deepEqual(peers[0], {
      publicKey: A,
      endpoint: '192.0.2.11:40001',
      allowedIps: ['198.51.100.2/32'],
      latestHandshake: 1796180000,
      rxBytes: 10,
      txBytes: 20,
      persistentKeepalive: undefined,
    });
  });

  it('wg failing fails the probe with its reason; no awk means no output at all, and a failure too', async () => {
    const stderr = 'Unable to access interface: Operation not permitted';
    await assert.rejects(
      probeLocally({ WG_EXIT: '1', WG_STDERR: stderr }),
      (err: unknown) => err instanceof ProbeError && err.message.includes('wg show all dump failed (exit 1)') && err.message.includes(stderr),
    );
    const results = sectionsOnGateway('', {}, [join(dir, 'noawk')]);
    assert.notEqual(results.get('dump')?.exitCode, 0);
    assert.doesNotMatch(results.get('dump')?.output ?? '', /wg0|51820/);
    await assert.rejects(probeLocally({}, [join(dir, 'noawk')]), (err: unknown) => err instanceof ProbeError && /exit 127.*awk: not found/.test(err.message));
  });

  it('a whole probe over the filtered output: names from one config read, keys only where they belong', async () => {
    for (const prefix of ['', 'env']) {
      const snapshot = await probeLocally({}, [], prefix);
      assert.deepEqual(snapshot.sessions.map((s) => s.user).sort(), ['alice', C.slice(0, 8), 'dave'].sort(), prefix);
      assertNoKeyBytes(JSON.stringify(snapshot));
    }
  });

  it('lines of no known form are skipped and counted; garbage alone is a ParseError', () => {
    assert.deepEqual(parseWgDump('@ifaces\n'), { interfaces: [], skippedLines: 0 });
    const { interfaces, skippedLines } = parseWgDump(`?\nwg0\t${S0}\t51820\toff\nwg0\t${A}\t(none)\tfe80::/ten\t0\t1\t2\toff\n`);
    assert.equal(skippedLines, 2);
    assert.deepEqual(byName(interfaces, 'wg0').peers[0]?.allowedIps, []);
    assert.throws(
      () => parseWgDump('\u0000\u00ff\ufffd binary \u0007 noise\n\u001b[31mred\n'),
      (err: unknown) => err instanceof ParseError && /wg show all dump: no line has the expected form/.test(err.message),
    );
  });

  it('any input either parses or throws a ParseError, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (junk) => {
        try {
          parseWgDump(junk);
        } catch (err) {
          assert.ok(err instanceof ParseError, String(err));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('peer names from the config files', () => {
  it('takes # Name above [Peer], across blank lines and comments, # friendly_name inside, quoted names', () => {
    const names = parseWgConfigNames(fixture('config-names.txt'));
    assert.deepEqual([...names.keys()], ['wg0', 'wg1']);
    assert.deepEqual(Object.fromEntries(names.get('wg0') ?? []), { [A]: 'alice laptop', [B]: 'bob', [C]: 'carol' });
    assert.deepEqual(Object.fromEntries(names.get('wg1') ?? []), { [D]: "dave's phone" });
  });

  it("a name comment after a peer's keys, followed by nothing, names that peer", () => {
    const names = parseWgConfigNames(`@@ wg0\n[peer]\nPublicKey = ${A}\n-\n# Name = late\n`);
    assert.deepEqual(Object.fromEntries(names.get('wg0') ?? []), { [A]: 'late' });
  });

  it('the awk filter on the gateway lets no private or preshared key through, in any spelling', () => {
    const secrets = [
      'cPrivKeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      'dPskBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=',
      'eOldCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=',
    ];
    // wg-quick format as wireguard-tools v1.0.20210914 reads it (keys case-insensitive, spaces optional).
    const conf = [
      '[Interface]',
      `PrivateKey = ${secrets[0]}`,
      'ListenPort = 51820',
      `#PrivateKey=${secrets[2]}`,
      `  privatekey=${secrets[0]}\r`,
      '',
      '# Name = alice',
      '[Peer]',
      `PublicKey = ${A}`,
      `PresharedKey = ${secrets[1]}`,
      `  presharedKEY  =  ${secrets[1]}`,
      'AllowedIPs = 198.51.100.2/32',
      '[Peer]',
      '# friendly_name = bob',
      `# old preshared key: ${secrets[1]}`,
      `publickey=${B}`,
      '',
    ].join('\n');
    const r = spawnSync('awk', [CONFIG_FILTER_AWK], { input: conf, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const s of secrets) assert.ok(!r.stdout.includes(s), `a secret passed the filter:\n${r.stdout}`);
    assert.ok(!/198\.51\.100\.2|51820/.test(r.stdout), 'other key lines are blanked too');
    const names = parseWgConfigNames(`@@ wg0\n${r.stdout}`);
    assert.deepEqual(Object.fromEntries(names.get('wg0') ?? []), { [A]: 'alice', [B]: 'bob' });
  });
});
