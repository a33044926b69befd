/** One IPsec tunnel as `show vpn flow` lists it. */
export interface EmulatedTunnel {
  id: number;
  name: string;
  /** `active`, `inactiv`, `init`, or any word the device might print. */
  state: string;
  /** Tunnel monitor: `off`, `up`, `down`. */
  monitor: string;
  localIp: string;
  peerIp: string;
  /** `tunnel.N`; empty to leave the column blank. */
  interface: string;
  /** The IKE gateway the tunnel uses; default `gw-` and the name before any `:proxy-id`. */
  gateway?: string;
}

/** A GlobalProtect user as `show global-protect-gateway current-user` lists it. */
export interface EmulatedGpUser {
  gateway: string;
  domainUser: string;
  primaryUsername: string;
  computer: string;
  client: string;
  clientOs: string;
  virtualIp: string;
  publicIp: string;
  tunnelType: 'IPSec' | 'SSL';
  /** Seconds before the probe that the user logged in. */
  loggedInSecondsAgo: number;
}

export interface EmulatedHa {
  mode: 'Active-Passive' | 'Active-Active';
  localState: string;
  peerState: string;
  peerConnection: 'up' | 'down';
}

export interface PanosFaults {
  /** Print the banner, then never a prompt (a CLI that hangs while starting). */
  neverPrompt?: boolean;
  /** Wait this long before answering each command (a busy management plane). */
  commandDelayMs?: number;
  /** Cut the TCP connection after this many output lines of the given command. */
  dropDuring?: { command: string; afterLines: number };
  /** Answer these exact commands with the given error text instead of running them. */
  refuse?: Record<string, string>;
  /**
   * Session channels one SSH connection may ever open; more are refused
   * (SSH_MSG_CHANNEL_OPEN_FAILURE). Whether PAN-OS limits this is not documented:
   * the emulator can play a unit that does, so the prober is known to cope.
   */
  sessionsPerConnection?: number;
}

export interface PanosScenario {
  hostname: string;
  model: string;
  family: string;
  serial: string;
  swVersion: string;
  ipAddress: string;
  uptimeSeconds: number;
  /** Shown in the prompt when set: `active`, `passive`, `active-primary`, ... */
  haState?: string;
  tunnels: EmulatedTunnel[];
  /** Non-IPsec tunnels (GlobalProtect, ...) counted in `total tunnels configured`. */
  otherTunnels?: number;
  /** Newer releases print a trailing `mode` column in `show vpn flow`. */
  flowModeColumn?: boolean;
  /** High availability as `show high-availability state` shows it; absent: HA not enabled. */
  ha?: EmulatedHa;
  /** GlobalProtect gateways and users; absent: no GlobalProtect configured. */
  globalProtect?: { gateways: { name: string; previousUsers: number }[]; users: EmulatedGpUser[] };
  /** Printed when the shell opens, before the prompt; `\n` line ends. */
  banner: string;
  promptDelayMs: number;
  username: string;
  password: string;
  faults?: PanosFaults;
}

export const DEFAULT_BANNER = 'Last login: Mon Mar  3 09:12:44 2025 from 192.0.2.200\n\nNumber of failed attempts since last successful attempt: 0\n\n';

export function tunnel(id: number, name: string, state: string, extra: Partial<EmulatedTunnel> = {}): EmulatedTunnel {
  return {
    id,
    name,
    state,
    monitor: 'off',
    localIp: '198.51.100.1',
    peerIp: `203.0.113.${id}`,
    interface: `tunnel.${id}`,
    ...extra,
  };
}

export function scenario(overrides: Partial<PanosScenario> = {}): PanosScenario {
  return {
    hostname: 'PA-LAB-01',
    model: 'PA-VM',
    family: 'vm',
    serial: '007951000123456',
    swVersion: '10.2.9-h1',
    ipAddress: '192.0.2.10',
    uptimeSeconds: 12 * 86400 + 3 * 3600 + 4 * 60 + 5,
    tunnels: [],
    banner: DEFAULT_BANNER,
    promptDelayMs: 20,
    username: 'admin',
    password: 'Lab-Passw0rd!',
    ...overrides,
  };
}
