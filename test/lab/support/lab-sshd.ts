import { killDescendants } from "../../support/process-tree.js";
// A private OpenSSH sshd inside a lab namespace, with its own host key and a key-only login for one user.
// test/support/sshd.ts starts sshd in the root namespace only; a gateway namespace needs this one.
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CommandError, run, spawnDaemon, waitFor, type Daemon } from "./netns.js";

export interface LabSshd {
  user: string;
  /** OpenSSH private key of `user` (unencrypted), for the exporter's private_key {file: ...}. */
  privateKeyFile: string;
  /** "ssh-ed25519 AAAA…", to be prefixed with the name the client uses for a known_hosts line. */
  hostPublicKey: string;
  /** As `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  isRunning(): boolean;
  logTail(lines?: number): string;
  /** SIGKILL the listener and every session under it (a crash: clients get no goodbye). */
  kill(): Promise<void>;
  start(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

/**
 * A key-only sshd for one lab user: no PAM (unlocked accounts suffice), no StrictModes (/tmp
 * is 1777), verbose logs for the daemon's log tail when a lab fails.
 */
export function labSshdConfig(o: { listen: string; hostKey: string; authorizedKeys: string; user: string; extra?: string[] }): string {
  return [
    `ListenAddress ${o.listen}`,
    `HostKey ${o.hostKey}`,
    `AuthorizedKeysFile ${o.authorizedKeys}`,
    `AllowUsers ${o.user}`,
    "PidFile none",
    "UsePAM no",
    "StrictModes no",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PrintMotd no",
    "MaxStartups 100",
    "LogLevel VERBOSE",
    ...(o.extra ?? []),
    "",
  ].join("\n");
}

export async function startLabSshd(opts: { ns: string; dir: string; listen: string; user: string }): Promise<LabSshd> {
  const { ns, dir, listen, user } = opts;
  await ensureKeyOnlyUser(user);
  // sshd insists on its privilege separation directory; `ip netns exec` keeps the host's /run.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const hostKey = join(dir, "ssh_host_ed25519_key");
  const userKey = join(dir, "id_ed25519");
  await Promise.all([
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "vpnx-lab-host", "-f", hostKey]),
    run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "vpnx-lab-user", "-f", userKey]),
  ]);
  // sshd reads authorized_keys after dropping to the user.
  writeFileSync(join(dir, "authorized_keys"), readFileSync(`${userKey}.pub`), { mode: 0o644 });
  const config = join(dir, "sshd_config");
  writeFileSync(config, labSshdConfig({ listen, hostKey, authorizedKeys: join(dir, "authorized_keys"), user }));
  const pub = readFileSync(`${hostKey}.pub`, "utf8").trim().split(/\s+/);
  const fp = (await run("ssh-keygen", ["-l", "-E", "sha256", "-f", `${hostKey}.pub`])).stdout.split(/\s+/)[1];
  if (pub.length < 2 || !fp?.startsWith("SHA256:")) throw new Error(`unexpected host key files in ${dir}`);

  const logFile = join(dir, "sshd.log");
  let daemon: Daemon | undefined;
  const start = async () => {
    if (daemon?.isRunning()) throw new Error("lab sshd is already running");
    const from = logSize(logFile);
    const d = spawnDaemon({ ns, command: "/usr/sbin/sshd", args: ["-D", "-e", "-f", config], logFile });
    daemon = d;
    const outcome = await waitFor(
      `sshd in ${ns} to listen on ${listen}`,
      async () => (d.isRunning() ? readFileSync(logFile, "utf8").slice(from).includes("Server listening on") && "up" : "exited"),
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 50, describe: () => d.logTail(20) },
    );
    if (outcome === "exited") throw new Error(`sshd in ${ns} exited at start:\n${d.logTail(20)}`);
  };
  await start();
  return {
    user,
    privateKeyFile: userKey,
    hostPublicKey: `${pub[0]} ${pub[1]}`,
    hostKeyFingerprint: fp,
    isRunning: () => daemon?.isRunning() ?? false,
    logTail: (lines) => daemon?.logTail(lines) ?? "",
    start,
    async kill() {
      const d = daemon;
      if (!d?.isRunning()) return;
      // Each session process is its own process group, so the listener's group alone would leave them serving.
      killDescendants(d.pid);
      d.kill("SIGKILL");
      await d.exited;
    },
  };
}

function logSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Creates the account once. useradd leaves it locked ("!"), which sshd refuses without PAM even for keys;
 * "*" unlocks key logins while no password can ever match.
 */
export async function ensureKeyOnlyUser(user: string): Promise<void> {
  const exists = await run("getent", ["passwd", user], { okExitCodes: [0, 2] });
  if (exists.code === 2) {
    await retryLocked(() => run("useradd", ["-M", "-d", "/", "-s", "/bin/sh", user], { okExitCodes: [0, 9] }));
  }
  const shadow = await run("getent", ["shadow", user]);
  if (shadow.stdout.split(":")[1]?.startsWith("!")) await retryLocked(() => run("usermod", ["-p", "*", user]));
}

/** Other test files edit /etc/passwd at the same time; the tools fail fast on the lock instead of waiting. */
async function retryLocked(f: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await f();
      return;
    } catch (err) {
      const text = err instanceof CommandError ? err.result.stderr : "";
      if (attempt >= 30 || !/lock/i.test(text)) throw err;
      await sleep(100);
    }
  }
}
