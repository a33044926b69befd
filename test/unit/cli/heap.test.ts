import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Loads src/cli/heap.ts in a fresh node, makes garbage, prints the young generation's size in MiB. */
async function youngGenerationMiB(nodeArgs: string[], env: NodeJS.ProcessEnv = process.env, largeAnswer = false): Promise<number> {
  const script = `
    await import('./src/cli/heap.ts');
    ${largeAnswer ? "(await import('./src/util/young-generation.ts')).letYoungGenerationGrow();" : ''}
    const v8 = await import('node:v8');
    let keep = [];
    for (let i = 0; i < 2e6; i++) { keep.push({ i }); if (keep.length > 5000) keep = []; }
    console.log(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576);`;
  // NODE_OPTIONS only from `env`: the test runner's own must not decide what the child does.
  const { NODE_OPTIONS: _, ...rest } = process.env;
  const { stdout } = await run(process.execPath, [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', script], {
    env: env === process.env ? rest : env,
    timeout: 60_000,
  });
  return Number(stdout.trim());
}

test('the young generation stays near its initial size instead of growing to 32 MiB', async () => {
  // Without the settings the same garbage grows it to 2 x 16 MiB.
  const size = await youngGenerationMiB([]);
  assert.ok(size <= 4, `young generation ${size} MiB`);
});

test('an operator who sizes the heap keeps their choice, on the command line or in NODE_OPTIONS', async () => {
  for (const size of [
    await youngGenerationMiB(['--max-semi-space-size=16']),
    await youngGenerationMiB([], { ...process.env, NODE_OPTIONS: '--max-semi-space-size=16' }),
  ]) {
    assert.ok(size > 4, `young generation ${size} MiB`);
  }
});

test('from the first large answer on, the young generation grows as V8 would', async () => {
  const size = await youngGenerationMiB([], process.env, true);
  assert.ok(size > 4, `young generation ${size} MiB`);
});
