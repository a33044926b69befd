import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ExporterProcess {
  url: string;
  pid: number;
  /** Resident set now, and the peak since the last resetPeak(), in bytes (Linux /proc). */
  rss(): { current: number; peak: number };
  resetPeak(): void;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

function statusField(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

/**
 * The built exporter (dist/, or another build's launcher) as its own process, so its memory
 * and CPU are measured alone.
 */
export async function startExporterProcess(modulesYaml: string, extraArgs: string[] = [], launcher = 'dist/vpn-exporter.mjs'): Promise<ExporterProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'vpnx-bench-'));
  const config = join(dir, 'modules.yaml');
  writeFileSync(config, modulesYaml);
  const child: ChildProcess = spawn(
    process.execPath,
    [launcher, `--config.file=${config}`, '--web.listen-address=127.0.0.1:0', '--log.level=info', ...extraArgs],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const pid = child.pid as number;
  const port = await new Promise<number>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`exporter did not start: ${seen}`)), 10_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /address=127\.0\.0\.1:(\d+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        seen = '';
        resolve(Number(m[1]));
      }
      if (seen.length > 65536) seen = seen.slice(-4096);
    });
    child.once('exit', (code) => reject(new Error(`exporter exited with ${code}: ${seen}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    rss: () => ({ current: statusField(pid, 'VmRSS'), peak: statusField(pid, 'VmHWM') }),
    resetPeak: () => writeFileSync(`/proc/${pid}/clear_refs`, '5'),
    cpuSeconds: () => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
