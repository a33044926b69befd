// An OpenSSH sshd next to the unix-socket VICI gateway (support/strongswan-lab.ts startViciUnixLab): same
// network namespace and the gateway's private /run, so it sees charon's /var/run/charon.vici. One daemon,
// three ports, because sshd's Match LocalPort can change what a port allows:
//   open        stream-local forwarding allowed (OpenSSH's default)
//   noForward   AllowStreamLocalForwarding no
//   oneSession  MaxSessions 1: a bridge command per connection
// Two accounts log in with the same key: a uid-0 one (vpnx-lab-root, see stroke-ssh-lab.ts) and an
// unprivileged one that may run exactly one command as root, the socat bridge, as a sudoers line says.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureKeyOnlyUser, labSshdConfig } from "./lab-sshd.js";
import { forwardPortFromNs, run, spawnDaemon, Teardown, waitFor, type Daemon } from "./netns.js";
import { ensureLabRoot, LAB_ROOT } from "./stroke-ssh-lab.js";
import type { ViciUnixLab } from "./strongswan-lab.js";
import { killDescendants } from "../../support/process-tree.js";

export const MONITOR_USER = "vpnx-vici-mon";
const PORTS = { open: 22, noForward: 2222, oneSession: 2223 } as const;
const START_TIMEOUT_MS = 10_000;
const SUDOERS_FILE = "/etc/sudoers.d/vpnx-vici-lab";

export interface ViciSshGateway {
  /** "127.0.0.1:<port>" forwards from the test process's namespace to each sshd port. */
  readonly targets: Record<keyof typeof PORTS, string>;
  readonly rootUser: string;
  readonly monitorUser: string;
  /** The bridge the sudoers line names, as a module's socket_command. */
  readonly sudoBridge: string;
  readonly privateKeyFile: string;
  /** Names the host key under every target. */
  readonly knownHostsFile: string;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export async function startViciSshGateway(lab: ViciUnixLab): Promise<ViciSshGateway> {
  const teardown = new Teardown();
  try {
    return await start(lab, teardown);
  } catch (err) {
    await teardown.run().catch(() => undefined);
    throw err;
  }
}

async function start(lab: ViciUnixLab, teardown: Teardown): Promise<ViciSshGateway> {
  await ensureLabRoot();
  await ensureKeyOnlyUser(MONITOR_USER);
  // Outside lab.dir (0700): sshd opens authorized_keys as the logging-in user.
  const dir = mkdtempSync(join(tmpdir(), "vpnx-vici-sshd-"));
  teardown.add("sshd dir", () => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const hostKey = join(dir, "ssh_host_ed25519_key");
  const userKey = join(dir, "id_ed25519");
  await Promise.all([
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "vpnx-vici-gw-host", "-f", hostKey]),
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "vpnx-vici-monitor", "-f", userKey]),
  ]);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(`${userKey}.pub`), { mode: 0o644 });

  const sudoBridge = `sudo -n socat STDIO UNIX-CONNECT:${lab.socket}`;
  // What a gateway needs, and all it needs: the one command, arguments included (sudoers wants ':' escaped).
  writeFileSync(SUDOERS_FILE, `${MONITOR_USER} ALL=(root) NOPASSWD: /usr/bin/socat STDIO UNIX-CONNECT\\:${lab.socket}\n`, { mode: 0o440 });
  teardown.add("sudoers line", () => rmSync(SUDOERS_FILE, { force: true }));
  await run("visudo", ["-c", "-q", "-f", SUDOERS_FILE]);

  const addr = lab.mgmtAddress;
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    labSshdConfig({
      listen: `${addr}:${PORTS.open}`,
      hostKey,
      authorizedKeys: join(dir, "authorized_keys"),
      user: `${LAB_ROOT} ${MONITOR_USER}`,
      extra: [
        `ListenAddress ${addr}:${PORTS.noForward}`,
        `ListenAddress ${addr}:${PORTS.oneSession}`,
        "PermitRootLogin prohibit-password",
        "PrintLastLog no",
        `Match LocalPort ${PORTS.noForward}`,
        "  AllowStreamLocalForwarding no",
        `Match LocalPort ${PORTS.oneSession}`,
        "  MaxSessions 1",
      ],
    }),
  );
  const logFile = join(dir, "sshd.log");
  const from = sizeOf(logFile);
  const daemon: Daemon = spawnDaemon({
    ns: lab.gatewayNs,
    setup: `${lab.gatewaySetup}\nmkdir -p /run/sshd`,
    command: "/usr/sbin/sshd",
    args: ["-D", "-e", "-f", config],
    logFile,
  });
  teardown.add("sshd", async () => {
    // Every session is a process group of its own: the listener's group alone would leave them serving.
    if (daemon.isRunning()) killDescendants(daemon.pid);
    await daemon.stop();
  });
  await waitFor(
    `sshd in ${lab.gatewayNs} to listen`,
    async () => {
      if (!daemon.isRunning()) throw new Error("sshd exited");
      return readFileSync(logFile, "utf8").slice(from).split("Server listening on").length > 3;
    },
    { timeoutMs: START_TIMEOUT_MS, intervalMs: 50, giveUpIf: () => (daemon.isRunning() ? undefined : "sshd exited"), describe: () => daemon.logTail(20) },
  );

  const hostPublicKey = readFileSync(`${hostKey}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
  const targets = {} as Record<keyof typeof PORTS, string>;
  const known: string[] = [];
  for (const [name, port] of Object.entries(PORTS) as [keyof typeof PORTS, number][]) {
    const fwd = await forwardPortFromNs(lab.gatewayNs, { host: addr, port }, join(dir, `forward-${name}.log`));
    teardown.add(`forward ${name}`, () => fwd.daemon.stop());
    targets[name] = `127.0.0.1:${fwd.port}`;
    known.push(`[127.0.0.1]:${fwd.port} ${hostPublicKey}`);
  }
  const knownHostsFile = join(dir, "known_hosts");
  writeFileSync(knownHostsFile, known.join("\n") + "\n");
  return {
    targets,
    rootUser: LAB_ROOT,
    monitorUser: MONITOR_USER,
    sudoBridge,
    privateKeyFile: userKey,
    knownHostsFile,
    logTail: (lines) => daemon.logTail(lines),
    stop: () => teardown.run(),
  };
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
