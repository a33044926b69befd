import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildSectionScript, shellQuote, splitSections } from '../../../src/transport/ssh/sections.js';
import { ProtocolError } from '../../../src/util/errors.js';

const B = 'vpnx-0123456789abcdef01234567';

test('the section script runs in a real shell and splits back exactly, exit codes included', () => {
  const script = buildSectionScript(
    [
      { id: 'a', command: `printf %s ${shellQuote("no newline, it's quoted")}` },
      { id: 'b', command: 'printf "two\\nlines\\n"' },
      { id: 'c', command: `cat -- ${shellQuote('/nonexistent/vpnx')}` },
      { id: 'd', command: 'true' },
    ],
    B,
  );
  const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
  const r = splitSections(out, B, ['a', 'b', 'c', 'd']);
  assert.deepEqual(r.get('a'), { output: "no newline, it's quoted", exitCode: 0 });
  assert.deepEqual(r.get('b'), { output: 'two\nlines\n', exitCode: 0 });
  assert.equal(r.get('c')?.exitCode, 1);
  assert.match(r.get('c')?.output ?? '', /No such file/);
  assert.deepEqual(r.get('d'), { output: '', exitCode: 0 });
});

test('any file content, even one imitating frames, comes back byte for byte', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), (x, y) => {
      const forged = `${x}\nvpnx-forged begin b\n${y}`;
      const out = `\n${B} begin a\n${forged}\n${B} end a 0\n\n${B} begin b\n${y}\n${B} end b 3\n`;
      const r = splitSections(out, B, ['a', 'b']);
      assert.equal(r.get('a')?.output, forged);
      assert.deepEqual(r.get('b'), { output: y, exitCode: 3 });
    }),
    { numRuns: 500 },
  );
});

test('a truncated or garbled answer is a ProtocolError', () => {
  const whole = `\n${B} begin a\nhello\n${B} end a 0\n`;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: whole.length - 1 }), (cut) => {
      assert.throws(() => splitSections(whole.slice(0, cut), B, ['a']), ProtocolError);
    }),
  );
  assert.throws(() => splitSections(`\n${B} begin a\nx\n${B} end a zz\n`, B, ['a']), ProtocolError);
});
