// Two conns to one peer sharing one IKE_SA, on the stroke lab: the gateway gets `site-a-2` (also=site-a, other
// subnets) and `site-a-3` (the same, never initiated) through `ipsec update`, which stroke merges into site-a's
// peer config ("added child to existing configuration 'site-a'"). The site-a peer (swanctl/VICI) gets a second
// conn `site-a2` with the same peer settings and initiates its child `net-a2`: charon reuses site-a's IKE_SA.
// So on both ends one IKE_SA named site-a carries a CHILD_SA of another conn.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../../support/wait-for.js';
import { addAddress } from './netns.js';
import { PLAN } from './strongswan-config.js';
import type { StrokeLab } from './strongswan-lab.js';

/** Subnets of the second child pair: the gateway's side and the peer's side (TEST-NET, unused elsewhere in the lab). */
export const NET2 = { gw: '198.51.100.224/28', gwHost: '198.51.100.225', peer: '198.51.100.240/28', peerHost: '198.51.100.241' } as const;

/** What the gateway's included file gains. */
export function sharedIkeGatewayConf(): string {
  return `
# Same peer, ids and auth as site-a (also=), other subnets: stroke adds them as children to site-a's peer config.
conn site-a-2
    also = site-a
    leftsubnet = ${NET2.gw}
    rightsubnet = ${NET2.peer}
    auto = add

conn site-a-3
    also = site-a
    leftsubnet = 203.0.113.64/28
    rightsubnet = 203.0.113.80/28
    auto = add
`;
}

function peerConn(name: string, child: string, localTs: string, remoteTs: string): string {
  const { gw, siteA, ids } = PLAN;
  return `  ${name} {
    version = 2
    local_addrs = ${siteA.outside}
    remote_addrs = ${gw.outside}
    local {
      auth = psk
      id = ${ids.siteA}
    }
    remote {
      auth = psk
      id = ${ids.gwSite}
    }
    children {
      ${child} {
        local_ts = ${localTs}
        remote_ts = ${remoteTs}
      }
    }
  }
`;
}

/** Brings the scenario up on a running stroke lab (site-a already up); returns when net-a2/site-a-2 is installed. */
export async function shareSiteAIkeSa(lab: StrokeLab): Promise<void> {
  appendFileSync(lab.includedConfFile, sharedIkeGatewayConf());
  await lab.ipsec(['update']);
  await waitFor('starter to load site-a-2 and site-a-3', async () => /^\s+site-a-3: {3}child:/m.test(await lab.ipsec(['statusall'])), {
    timeoutMs: 15_000,
  });

  // Hosts in the new subnets, for a round trip through the new CHILD_SA. Needed before it too: with
  // kernel-libipsec charon routes the remote subnet via ipsec0 from a local address inside the local subnet.
  await addAddress('lo', `${NET2.gwHost}/32`, lab.gatewayNs);
  await addAddress('lo', `${NET2.peerHost}/32`, lab.siteAVici.ns);

  // --load-conns unloads conns missing from the file, so it names site-a (as loaded at start) too.
  const { gw, siteA } = PLAN;
  const conf = join(lab.dir, 'site-a-two-conns.conf');
  writeFileSync(conf, `connections {\n${peerConn('site-a', 'net-a', siteA.lanNet, gw.lanNet)}${peerConn('site-a2', 'net-a2', NET2.peer, NET2.gw)}}\n`);
  await lab.siteASwanctl(['--load-conns', '--file', conf]);
  await lab.siteASwanctl(['--initiate', '--child', 'net-a2', '--timeout', '30']).catch((err: unknown) => {
    const peerLog = readFileSync(join(lab.dir, 'pa', 'charon.log'), 'utf8')
      .split('\n')
      .slice(-30)
      .join('\n');
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- gateway ---\n${lab.gatewayLogTail(30)}\n--- peer ---\n${peerLog}`);
  });
}
