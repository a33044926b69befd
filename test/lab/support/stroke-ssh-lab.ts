// An OpenSSH sshd next to the stroke gateway: same network namespace and the gateway's private mounts
// (its /run with charon.ctl, ipsec.conf, ipsec.secrets and the included file), so `ipsec statusall` run in
// an SSH session talks to the lab's charon. Root logs in with a key only, as on many real gateways.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyFingerprint, startSshd, testKeyPair } from '../../support/sshd.js';
import { forwardPortFromNs } from './netns.js';
import type { StrongswanLab } from './strongswan-lab.js';

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
export const LAB_ROOT = 'vpnx-lab-root';

export async function startGatewaySshd(lab: StrongswanLab): Promise<GatewaySshd> {
  const sshd = await startSshd({
    ns: lab.gatewayNs,
    // The gateway's setup binds its private /run and its config files; sshd insists on /run/sshd there.
    setup: `${lab.gatewaySetup}\nmkdir -p /run/sshd`,
    dir: join(lab.dir, 'gw-sshd'),
    listen: [`${lab.mgmtAddress}:${SSH_PORT}`],
    account: { name: LAB_ROOT, uid0: true },
    maxSessions: 10,
  });
  let fwd: Awaited<ReturnType<typeof forwardPortFromNs>>;
  try {
    fwd = await forwardPortFromNs(lab.gatewayNs, { host: lab.mgmtAddress, port: SSH_PORT }, join(sshd.dir, 'forward.log'));
  } catch (err) {
    await sshd.kill();
    throw err;
  }
  const knownHostsFile = join(sshd.dir, 'known_hosts');
  writeFileSync(knownHostsFile, `[127.0.0.1]:${fwd.port} ${sshd.hostPublicKey}\n`);

  return {
    target: `127.0.0.1:${fwd.port}`,
    user: sshd.user,
    privateKeyFile: sshd.privateKeyFile,
    knownHostsFile,
    hostKeyFingerprint: sshd.hostKeyFingerprint,
    otherKeyFingerprint: keyFingerprint(testKeyPair({ comment: 'vpnx-not-this-gateway' }).public),
    isRunning: () => sshd.isRunning(),
    logTail: (lines) => sshd.logTail(lines),
    kill: () => sshd.kill(),
    start: () => sshd.start(),
    async stop() {
      await sshd.kill();
      await fwd.daemon.stop();
    },
  };
}
