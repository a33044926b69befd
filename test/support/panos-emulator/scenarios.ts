import { scenario, tunnel, type EmulatedGpUser, type PanosScenario } from './scenario.js';

const SIXTY = `IPSEC-${'A'.repeat(48)}-DC-01`;
/** What a unit whose key manager is not answering prints instead of the tunnel table. */
const FLOW_ERROR = 'Server error : failed to get tunnel information from keymgr';

/** Not a verified PAN-OS wording: a refusal naming GlobalProtect, as the prober must read it. */
const NO_GP_ERROR = 'Server error : GlobalProtect gateway is not configured';

const GP_USERS = {
  alice: {
    gateway: 'GP-EXT',
    domainUser: 'corp\\alice',
    primaryUsername: 'alice@corp.example',
    computer: 'LT-ALICE',
    client: 'Microsoft Windows 11 Enterprise , 64-bit',
    clientOs: 'Windows',
    virtualIp: '10.31.0.11',
    publicIp: '198.51.100.77',
    tunnelType: 'IPSec',
    loggedInSecondsAgo: 3 * 3600,
  },
  bob: {
    gateway: 'GP-EXT',
    domainUser: 'corp\\bob',
    primaryUsername: 'bob@corp.example',
    computer: 'MBP-BOB',
    client: 'Apple Mac OS X 14.4.1',
    clientOs: 'Mac',
    virtualIp: '10.31.0.12',
    publicIp: '203.0.113.99',
    tunnelType: 'SSL',
    loggedInSecondsAgo: 600,
  },
  carol: {
    gateway: 'GP-INT',
    domainUser: 'carol',
    primaryUsername: 'carol@corp.example',
    computer: 'carol-linux',
    client: 'Linux Ubuntu 22.04',
    clientOs: 'Linux',
    virtualIp: '10.32.0.5',
    publicIp: '192.0.2.150',
    tunnelType: 'IPSec',
    loggedInSecondsAgo: 86400 + 5,
  },
} satisfies Record<string, EmulatedGpUser>;

/** Ready-made devices, one per behaviour the prober must survive. */
export const SCENARIOS = {
  allActive: scenario({
    tunnels: [tunnel(1, 'to-dc1', 'active', { monitor: 'up' }), tunnel(2, 'to-dc2', 'active'), tunnel(3, 'to-aws', 'active')],
  }),
  someInactive: scenario({
    haState: 'active',
    hostname: 'PA-PRI',
    otherTunnels: 1,
    tunnels: [tunnel(2, 'IPSEC-BANK', 'inactiv'), tunnel(3, 'IPSEC-PARTNER', 'active'), tunnel(4, 'IPSEC-BRANCH-4', 'inactiv', { monitor: 'down' })],
  }),
  oneInit: scenario({
    tunnels: [tunnel(1, 'to-dc1', 'active'), tunnel(2, 'to-new-site', 'init')],
  }),
  longName: scenario({
    tunnels: [tunnel(5, SIXTY, 'active', { monitor: 'up' }), tunnel(6, 'short', 'inactiv')],
  }),
  zeroTunnels: scenario({ tunnels: [] }),
  haPassive: scenario({
    hostname: 'PA-SEC',
    haState: 'passive',
    ha: { mode: 'Active-Passive', localState: 'passive', peerState: 'active', peerConnection: 'up' },
    tunnels: [tunnel(1, 'to-dc1', 'inactiv'), tunnel(2, 'to-dc2', 'inactiv')],
  }),
  haActive: scenario({
    hostname: 'PA-PRI',
    haState: 'active',
    ha: { mode: 'Active-Passive', localState: 'active', peerState: 'passive', peerConnection: 'up' },
    tunnels: [tunnel(1, 'to-dc1', 'active'), tunnel(2, 'to-dc2', 'inactiv')],
  }),
  /** A newer release (trailing `mode` column) with a tunnel of three proxy-ids, one of them down. */
  proxyIds: scenario({
    swVersion: '11.1.6',
    flowModeColumn: true,
    tunnels: [
      tunnel(10, 'to-hq:net-a', 'active', { peerIp: '203.0.113.50', interface: 'tunnel.10' }),
      tunnel(11, 'to-hq:net-b', 'inactiv', { peerIp: '203.0.113.50', interface: 'tunnel.10' }),
      tunnel(12, 'to-hq:net-c', 'active', { peerIp: '203.0.113.50', interface: 'tunnel.10' }),
      tunnel(13, 'to-branch', 'active'),
    ],
  }),
  globalProtect: scenario({
    hostname: 'PA-GP',
    otherTunnels: 2,
    tunnels: [tunnel(1, 'to-dc1', 'active')],
    globalProtect: {
      gateways: [
        { name: 'GP-EXT', previousUsers: 12 },
        { name: 'GP-INT', previousUsers: 3 },
      ],
      users: [GP_USERS.alice, GP_USERS.bob, GP_USERS.carol],
    },
  }),
  /** GlobalProtect commands refused the way a unit without the feature may refuse them. */
  noGlobalProtect: scenario({
    tunnels: [tunnel(1, 'to-dc1', 'active')],
    faults: {
      refuse: {
        'show global-protect-gateway current-user': NO_GP_ERROR,
        'show global-protect-gateway statistics': NO_GP_ERROR,
      },
    },
  }),
  /** A busy management plane: every command takes a while. */
  slowDevice: scenario({
    tunnels: [tunnel(1, 'to-dc1', 'active'), tunnel(2, 'to-dc2', 'inactiv')],
    faults: { commandDelayMs: 150 },
  }),
  slowPrompt: scenario({ promptDelayMs: 1500, tunnels: [tunnel(1, 'to-dc1', 'active')] }),
  dropsMidOutput: scenario({
    tunnels: Array.from({ length: 6 }, (_, i) => tunnel(i + 1, `site-${i + 1}`, 'active')),
    faults: { dropDuring: { command: 'show vpn flow', afterLines: 9 } },
  }),
  neverPrompts: scenario({ faults: { neverPrompt: true } }),
  pagerRefused: scenario({
    tunnels: Array.from({ length: 40 }, (_, i) => tunnel(i + 1, `site-${i + 1}`, i % 3 === 0 ? 'inactiv' : 'active')),
    faults: { refuse: { 'set cli pager off': 'Server error : permission denied for set cli pager' } },
  }),
  vpnFlowError: scenario({
    tunnels: [tunnel(1, 'to-dc1', 'active')],
    faults: { refuse: { 'show vpn flow': FLOW_ERROR } },
  }),
} satisfies Record<string, PanosScenario>;

export const SIXTY_CHAR_TUNNEL_NAME = SIXTY;
export const VPN_FLOW_ERROR = FLOW_ERROR;
export const NO_GLOBALPROTECT_ERROR = NO_GP_ERROR;
export const GLOBALPROTECT_USERS = GP_USERS;
