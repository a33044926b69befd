import { killDescendants } from "../../support/process-tree.js";
// An OpenSSH sshd next to the stroke gateway: same network namespace and the gateway's private mounts
// (its /run with charon.ctl, ipsec.conf, ipsec.secrets and the included file), so `ipsec statusall` run in
// an SSH session talks to the lab's charon. Root logs in with a key only, as on many real gateways.
//
// lab-sshd.ts cannot pass a `setup` to spawnDaemon, and its account handling is for unprivileged users;
// this starter sits directly on netns.ts.
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { labSshdConfig } from "./lab-sshd.js";
import { forwardPortFromNs, run, spawnDaemon, waitFor, type Daemon } from "./netns.js";
import type { StrongswanLab } from "./strongswan-lab.js";

const START_TIMEOUT_MS = 10_000;
const SSH_PORT = 22;

export interface GatewaySshd {
  /** "127.0.0.1:<port>": a socat forward from the test process's namespace to the sshd. */
  readonly target: string;
  readonly user: string;
  /** The user's unencrypted OpenSSH private key, for private_key: {file: …}. */
  readonly privateKeyFile: string;
  /** A known_hosts file naming the sshd's host key under the target. */
  readonly knownHostsFile: string;
  /** "SHA256:…" as `ssh-keygen -lf` prints it. */
  readonly hostKeyFingerprint: string;
  /** A second ed25519 key's fingerprint: what a module pinning the wrong key holds. */
  readonly otherKeyFingerprint: string;
  isRunning(): boolean;
  logTail(lines?: number): string;
  /** SIGKILL the listener and every session process under it (a crash: clients get no goodbye). */
  kill(): Promise<void>;
  /** Starts the listener again with the same keys and port. */
  start(): Promise<void>;
  /** Stops sshd and the forward; the namespace itself belongs to the lab. */
  stop(): Promise<void>;
}

/**
 * `ipsec statusall` needs root, but root's login shell here is bash, which sources ~/.bashrc for
 * ssh commands; that runs `pyenv init`, whose rehash lock survives a session killed mid-way (the
 * fault drills kill sessions) and then stalls every later root login for 60 s. A second uid-0
 * account whose shell is /bin/sh reads no startup file at all.
 */
export const LAB_ROOT = "vpnx-lab-root";

export async function ensureLabRoot(): Promise<void> {
  const exists = await run("id", ["-u", LAB_ROOT], { okExitCodes: [0, 1] });
  if (exists.code === 0) return;
  await run("useradd", ["-o", "-u", "0", "-g", "0", "-M", "-d", "/", "-s", "/bin/sh", LAB_ROOT], { okExitCodes: [0, 9] });
  // A new account is locked ("!"), which sshd refuses without PAM.
  await run("usermod", ["-p", "*", LAB_ROOT]);
}

export async function startGatewaySshd(lab: StrongswanLab): Promise<GatewaySshd> {
  await ensureLabRoot();
  const dir = join(lab.dir, "gw-sshd");
  mkdirSync(dir, { mode: 0o700 });
  const hostKey = join(dir, "ssh_host_ed25519_key");
  const userKey = join(dir, "id_ed25519");
  const otherKey = join(dir, "other_host_key");
  await Promise.all(
    [
      [hostKey, "vpnx-stroke-gw-host"],
      [userKey, "vpnx-stroke-gw-root"],
      [otherKey, "vpnx-not-this-gateway"],
    ].map(([file, comment]) => run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment ?? "", "-f", file ?? ""])),
  );
  writeFileSync(join(dir, "authorized_keys"), readFileSync(`${userKey}.pub`), { mode: 0o600 });
  const listen = `${lab.mgmtAddress}:${SSH_PORT}`;
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    labSshdConfig({
      listen,
      hostKey,
      authorizedKeys: join(dir, "authorized_keys"),
      user: LAB_ROOT,
      extra: ["PermitRootLogin prohibit-password", "PrintLastLog no"],
    }),
  );
  const hostKeyFingerprint = await fingerprint(`${hostKey}.pub`);
  const otherKeyFingerprint = await fingerprint(`${otherKey}.pub`);
  const hostPublicKey = readFileSync(`${hostKey}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");

  const logFile = join(dir, "sshd.log");
  let daemon: Daemon | undefined;
  const start = async () => {
    if (daemon?.isRunning()) throw new Error("the gateway sshd is already running");
    const from = sizeOf(logFile);
    // The gateway's setup binds its private /run and its config files; sshd insists on /run/sshd there.
    const d = spawnDaemon({
      ns: lab.gatewayNs,
      setup: `${lab.gatewaySetup}\nmkdir -p /run/sshd`,
      command: "/usr/sbin/sshd",
      args: ["-D", "-e", "-f", config],
      logFile,
    });
    daemon = d;
    await waitFor(
      `sshd in ${lab.gatewayNs} to listen on ${listen}`,
      async () => {
        if (!d.isRunning()) throw new Error("sshd exited");
        return readFileSync(logFile, "utf8").slice(from).includes("Server listening on");
      },
      {
        timeoutMs: START_TIMEOUT_MS,
        intervalMs: 50,
        giveUpIf: () => (d.isRunning() ? undefined : "sshd exited"),
        describe: () => d.logTail(20),
      },
    );
  };
  const kill = async () => {
    const d = daemon;
    if (!d?.isRunning()) return;
    // Every session is a process group of its own: the listener's group alone would leave them serving.
    killDescendants(d.pid);
    d.kill("SIGKILL");
    await d.exited;
  };

  await start();
  let fwd: Awaited<ReturnType<typeof forwardPortFromNs>>;
  try {
    fwd = await forwardPortFromNs(lab.gatewayNs, { host: lab.mgmtAddress, port: SSH_PORT }, join(dir, "forward.log"));
  } catch (err) {
    await kill();
    throw err;
  }
  const target = `127.0.0.1:${fwd.port}`;
  const knownHostsFile = join(dir, "known_hosts");
  writeFileSync(knownHostsFile, `[127.0.0.1]:${fwd.port} ${hostPublicKey}\n`);

  return {
    target,
    user: LAB_ROOT,
    privateKeyFile: userKey,
    knownHostsFile,
    hostKeyFingerprint,
    otherKeyFingerprint,
    isRunning: () => daemon?.isRunning() ?? false,
    logTail: (lines) => daemon?.logTail(lines) ?? readTail(logFile, lines ?? 40),
    kill,
    start,
    async stop() {
      await kill();
      await fwd.daemon.stop();
    },
  };
}

async function fingerprint(pubFile: string): Promise<string> {
  const fp = (await run("ssh-keygen", ["-l", "-E", "sha256", "-f", pubFile])).stdout.split(/\s+/)[1] ?? "";
  if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(fp)) throw new Error(`unexpected fingerprint of ${pubFile}: ${fp}`);
  return fp;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readTail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

