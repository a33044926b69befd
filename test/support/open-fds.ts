import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Socket inodes of TCP connections with `port` at either end (/proc/net/tcp and tcp6). */
function connectionsOnPort(port: number): Set<string> {
  const inodes = new Set<string>();
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const [local, remote, inode] = [f[1], f[2], f[9]];
      if (!local || !remote || !inode) continue;
      if (local.endsWith(`:${hex}`) || remote.endsWith(`:${hex}`)) inodes.add(inode);
    }
  }
  return inodes;
}

/**
 * This process's open file descriptors, leaving out the HTTP connections between the test
 * client and the exporter listening on `httpPort`. The exporter keeps idle scrape
 * connections for minutes by design; what a leak test looks for is everything else.
 */
export function openFdsExceptHttp(httpPort: number): number {
  const http = connectionsOnPort(httpPort);
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let target = '';
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed while we looked (the readdir's own fd, for one)
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode === undefined || !http.has(inode)) n++;
  }
  return n;
}
