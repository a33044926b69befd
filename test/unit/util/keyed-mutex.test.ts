import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedMutex } from '../../../src/util/keyed-mutex.js';
import { AbortedError } from '../../../src/util/errors.js';

describe('KeyedMutex', () => {
  it('runs holders of one key one at a time, in arrival order; other keys run alongside', async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    const job = (key: string, name: string) =>
      mutex.run(key, new AbortController().signal, async () => {
        events.push(`${name} in`);
        await sleep(20);
        events.push(`${name} out`);
      });
    await Promise.all([job('a', 'a1'), job('a', 'a2'), job('b', 'b1'), job('a', 'a3')]);
    const a = events.filter((e) => e.startsWith('a'));
    assert.deepEqual(a, ['a1 in', 'a1 out', 'a2 in', 'a2 out', 'a3 in', 'a3 out']);
    assert.ok(events.indexOf('b1 in') < events.indexOf('a1 out'), 'b did not wait for a');
    assert.equal(mutex.size, 0, 'keys are forgotten when idle');
  });

  it('a waiter that gives up never runs and lets nobody overtake the holder', async () => {
    const mutex = new KeyedMutex();
    let release!: () => void;
    const holding = mutex.run('k', new AbortController().signal, () => new Promise<void>((r) => (release = r)));
    const quitter = new AbortController();
    let quitterRan = false;
    const waiting = mutex.run('k', quitter.signal, async () => {
      quitterRan = true;
    });
    quitter.abort(new AbortedError('gave up'));
    await assert.rejects(waiting, /gave up/);
    let lateRan = false;
    const late = mutex.run('k', new AbortController().signal, async () => {
      lateRan = true;
    });
    await sleep(20);
    assert.equal(lateRan, false, 'a later arrival waits for the holder even though the waiter before it left');
    release();
    await Promise.all([holding, late]);
    assert.equal(lateRan, true);
    assert.equal(quitterRan, false);
    await sleep(0);
    assert.equal(mutex.size, 0);
  });
});
