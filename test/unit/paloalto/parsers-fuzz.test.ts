import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import { detectCliError } from '../../../src/vendors/paloalto/cli-error.js';
import { cleanTerminalText, parsePromptAtEnd } from '../../../src/vendors/paloalto/prompt.js';
import { parseSystemInfo } from '../../../src/vendors/paloalto/system-info.js';
import { parseVpnFlow } from '../../../src/vendors/paloalto/vpn-flow.js';
import { parseGpCurrentUsers, parseGpStatistics } from '../../../src/vendors/paloalto/global-protect.js';
import { parseHaState } from '../../../src/vendors/paloalto/high-availability.js';
import { parseIkeSa, parseIpsecSa } from '../../../src/vendors/paloalto/sa.js';
import { ParseError } from '../../../src/util/errors.js';
import { renderVpnFlow } from '../../support/panos-emulator/render.js';
import { scenario, type EmulatedTunnel } from '../../support/panos-emulator/scenario.js';
import { withinCpu } from '../../support/cpu-bound.js';

const RUNS = 400;
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/paloalto/${name}`, import.meta.url), 'utf8');
const FIXTURES = [
  'vpn-flow-real-sample.txt',
  'vpn-flow-long-names.txt',
  'vpn-flow-old-layout.txt',
  'vpn-flow-zero.txt',
  'vpn-flow-noisy.txt',
  'system-info-vm.txt',
  'system-info-ha-noisy.txt',
  'vpn-flow-mode-column.txt',
  'vpn-flow-totals-disagree.txt',
  'gp-current-user.txt',
  'gp-statistics.txt',
  'vpn-ike-sa.txt',
  'vpn-ipsec-sa.txt',
  'ha-state-passive.txt',
].map(fixture);

const PARSERS: [string, (text: string) => unknown][] = [
  ['parseVpnFlow', parseVpnFlow],
  ['parseSystemInfo', parseSystemInfo],
  ['parseGpCurrentUsers', parseGpCurrentUsers],
  ['parseGpStatistics', parseGpStatistics],
  ['parseIkeSa', parseIkeSa],
  ['parseIpsecSa', parseIpsecSa],
  ['parseHaState', parseHaState],
];

function onlyParseError(parse: (text: string) => unknown, text: string): void {
  try {
    parse(text);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
}

// Characters that matter to these parsers, so mutations hit structure, not just bytes.
const NOISE = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    ' ',
    '  ',
    '\n',
    '\r\n',
    '\r',
    '\t',
    '-',
    ':',
    '\x1b[',
    '\x1b[K',
    '\x1b[?7h',
    '0',
    '99999999999',
    'id name state',
    'total IPSec tunnel shown: 5',
    'admin@fw(active)> ',
    '\x08',
  ),
);

type Mutation =
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicateLine'; line: number }
  | { kind: 'swapLines'; a: number; b: number };

const MUTATION: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 120 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: NOISE }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicateLine' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
);

function mutate(text: string, m: Mutation): string {
  const pos = (n: number) => (text.length === 0 ? 0 : n % (text.length + 1));
  const lines = text.split('\n');
  const line = (n: number) => n % Math.max(1, lines.length);
  switch (m.kind) {
    case 'delete':
      return text.slice(0, pos(m.at)) + text.slice(pos(m.at) + m.len);
    case 'insert':
      return text.slice(0, pos(m.at)) + m.text + text.slice(pos(m.at));
    case 'truncate':
      return text.slice(0, pos(m.at));
    case 'duplicateLine':
      lines.splice(line(m.line), 0, lines[line(m.line)] ?? '');
      return lines.join('\n');
    case 'swapLines': {
      const [a, b] = [line(m.a), line(m.b)];
      [lines[a], lines[b]] = [lines[b] ?? '', lines[a] ?? ''];
      return lines.join('\n');
    }
  }
}

function report(t: TestContext, cases: number): void {
  t.diagnostic(`${cases} generated cases`);
}

describe('PAN-OS parsers under generated input', () => {
  for (const [name, parse] of PARSERS) {
    it(`${name} throws only ParseError on arbitrary text`, (t) => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => onlyParseError(parse, text)),
        { numRuns: RUNS },
      );
      report(t, RUNS);
    });

    it(`${name} throws only ParseError on mutated fixtures`, (t) => {
      fc.assert(
        fc.property(fc.constantFrom(...FIXTURES), fc.array(MUTATION, { minLength: 1, maxLength: 6 }), (base, ms) => {
          onlyParseError(parse, ms.reduce(mutate, base));
        }),
        { numRuns: RUNS },
      );
      report(t, RUNS);
    });
  }

  it('detectCliError, parsePromptAtEnd and cleanTerminalText never throw', (t) => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.array(NOISE).map((a) => a.join('')),
        ),
        (text) => {
          detectCliError(text);
          parsePromptAtEnd(text);
          assert.equal(typeof cleanTerminalText(text), 'string');
        },
      ),
      { numRuns: RUNS },
    );
    report(t, RUNS);
  });

  it('the prompt pattern stays linear on long hostile lines', () => {
    const hostile = ['a@'.repeat(100_000), `\n${'x@'.repeat(50_000)}(`, `\n${'a'.repeat(200_000)}@`, `\n${'\x1b['.repeat(50_000)}a@b`];
    // ~200 ms cold; quadratic matching would take minutes.
    withinCpu(5000, 'matching the hostile lines', () => {
      for (const text of hostile) assert.equal(parsePromptAtEnd(text), undefined);
    });
  });

  it('parseVpnFlow reads back every table the emulator renders', (t) => {
    const word = fc.stringMatching(/^[A-Za-z0-9._:-]{1,20}$/);
    const name = fc.array(word, { minLength: 1, maxLength: 4 }).map((w) => w.join(' '));
    const ip = fc.ipV4();
    const row = fc.record({
      name,
      localIp: ip,
      peerIp: ip,
      state: fc.constantFrom('active', 'inactiv', 'init', 'rekey'),
      monitor: fc.constantFrom('off', 'up', 'down'),
      interface: fc.oneof(
        fc.constant('tunnel'),
        fc.nat(9999).map((n) => `tunnel.${n}`),
      ),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 8 }), fc.nat(3), (rows, other) => {
        const tunnels: EmulatedTunnel[] = rows.map((r, i) => ({ id: i + 1, ...r }));
        const text = renderVpnFlow(scenario({ tunnels, otherTunnels: other })).join('\r\n');
        const parsed = parseVpnFlow(text);
        assert.deepEqual(parsed.tunnels, tunnels);
        assert.deepEqual(parsed.totals, { configured: rows.length + other, ipsecConfigured: rows.length, ipsecShown: rows.length });
      }),
      { numRuns: 200 },
    );
    report(t, 200);
  });
});
