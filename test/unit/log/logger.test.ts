import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Secret } from '../../../src/config/secret.js';
import { createLogger, type LogFormat, type LogLevelName } from '../../../src/log/logger.js';

function capture(level: LogLevelName, format: LogFormat) {
  const lines: string[] = [];
  const logger = createLogger(level, format, { write: (line: string) => lines.push(line) });
  return { logger, lines };
}

test('logfmt: time, level, bindings, fields in order, msg last; values quoted only when they must be', () => {
  const { logger, lines } = capture('info', 'logfmt');
  logger
    .child({ module: 'vici', target: 'gw1:4502' })
    .error({ reason: 'connection refused by gw1:4502', kind: 'connection_refused', duration_seconds: 0.0004, ok: false, gone: undefined }, 'probe failed');
  assert.equal(lines.length, 1);
  const line = lines[0] as string;
  assert.match(line, /^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=error /);
  assert.equal(
    line.replace(/^ts=\S+ /, ''),
    'level=error module=vici target=gw1:4502 reason="connection refused by gw1:4502" kind=connection_refused duration_seconds=0.0004 ok=false msg="probe failed"\n',
  );
});

test('logfmt: quotes, backslashes, newlines and = are escaped; objects show as their JSON', () => {
  const { logger, lines } = capture('debug', 'logfmt');
  logger.info({ a: 'say "hi"\nnow', b: 'x=y', c: { n: 1 }, d: Number.NaN, e: '' }, 'ok');
  assert.equal(lines[0]?.replace(/^ts=\S+ /, ''), 'level=info a="say \\"hi\\"\\nnow" b="x=y" c="{\\"n\\":1}" d=null e="" msg=ok\n');
});

test('json: one object per line, shaped as pino wrote it (level, time, bindings, fields, msg)', () => {
  const { logger, lines } = capture('debug', 'json');
  logger.child({ module: 'vici' }).warn({ n: 3, s: 'a"b', o: { k: [1] }, u: undefined }, 'careful');
  const line = lines[0] as string;
  assert.ok(line.endsWith('\n'));
  const record = JSON.parse(line) as Record<string, unknown>;
  assert.deepEqual(Object.keys(record), ['level', 'time', 'module', 'n', 's', 'o', 'msg']);
  assert.deepEqual({ ...record, time: undefined }, { level: 'warn', time: undefined, module: 'vici', n: 3, s: 'a"b', o: { k: [1] }, msg: 'careful' });
  assert.ok(!Number.isNaN(Date.parse(record.time as string)));
});

test('levels below the logger’s are not written, in both formats', () => {
  for (const format of ['logfmt', 'json'] as const) {
    const { logger, lines } = capture('warn', format);
    logger.debug({}, 'd');
    logger.info({}, 'i');
    logger.child({ x: 1 }).info({}, 'i2');
    logger.warn({}, 'w');
    logger.error({}, 'e');
    assert.deepEqual(
      lines.map((l) => (format === 'json' ? (JSON.parse(l) as { msg: string }).msg : /msg=(\S+)/.exec(l)?.[1])),
      ['w', 'e'],
    );
  }
});

test('a secret in a field or a binding shows as <secret> in both formats', () => {
  for (const format of ['logfmt', 'json'] as const) {
    const { logger, lines } = capture('debug', format);
    const secret = new Secret('hunter2-do-not-log');
    logger.child({ password: secret }).info({ key: secret, nested: { secret } }, 'auth');
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]?.includes('hunter2'), lines[0]);
    assert.ok(lines[0]?.includes('<secret>'));
  }
});
