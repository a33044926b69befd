import assert from 'node:assert/strict';

/**
 * Runs `work` and fails if it took more than `boundMs` of this process's CPU time. For bounds
 * that catch super-linear parsing (a backtracking regexp, an expansion blow-up): CPU time, not
 * wall time, because on a loaded machine the process may wait longer than the bound for a core.
 */
export function withinCpu<T>(boundMs: number, what: string, work: () => T): T {
  const started = process.cpuUsage();
  const result = work();
  const used = process.cpuUsage(started);
  const ms = (used.user + used.system) / 1000;
  assert.ok(ms < boundMs, `${what} took ${Math.round(ms)} ms of CPU (bound ${boundMs} ms)`);
  return result;
}
