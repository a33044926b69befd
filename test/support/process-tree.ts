import { readFileSync, readdirSync } from 'node:fs';

/**
 * Every process below `root`, found through /proc: sshd puts each session in a process
 * group of its own, so signalling the listener's group would leave sessions serving.
 */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

/** Sends a signal to every process below `root`; those already gone are skipped. */
export function killDescendants(root: number, sig: NodeJS.Signals = 'SIGKILL'): number[] {
  const pids = descendants(root);
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // Already gone.
    }
  }
  return pids;
}
