import { scenario, tunnel, type PanosScenario } from './scenario.js';

const SIXTY = `IPSEC-${'A'.repeat(48)}-DC-01`;
/** What a unit whose key manager is not answering prints instead of the tunnel table. */
const FLOW_ERROR = 'Server error : failed to get tunnel information from keymgr';

/** Ready-made devices, one per behaviour the prober must survive. */
export const SCENARIOS = {
  allActive: scenario({
    tunnels: [tunnel(1, 'to-dc1', 'active', { monitor: 'up' }), tunnel(2, 'to-dc2', 'active'), tunnel(3, 'to-aws', 'active')],
  }),
  someInactive: scenario({
    haState: 'active',
    hostname: 'PA-PRI',
    otherTunnels: 1,
    tunnels: [
      tunnel(2, 'IPSEC-BANK', 'inactiv'),
      tunnel(3, 'IPSEC-PARTNER', 'active'),
      tunnel(4, 'IPSEC-BRANCH-4', 'inactiv', { monitor: 'down' }),
    ],
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
    tunnels: [tunnel(1, 'to-dc1', 'inactiv'), tunnel(2, 'to-dc2', 'inactiv')],
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
