// Addresses, identities and config files of the strongSwan lab scenarios.
import { PKI_NAMES } from './strongswan-pki.js';

// Only TEST-NET ranges: 192.0.2.0/24 is the "internet" between gateways and clients,
// 198.51.100.0/24 holds protected subnets and virtual IP pools, 203.0.113.0/24 is management.

export const PLAN = {
  gw: { outside: '192.0.2.1', lan: '198.51.100.1', lanNet: '198.51.100.0/27', mgmt: '203.0.113.1' },
  siteA: { outside: '192.0.2.2', lan: '198.51.100.33', lanNet: '198.51.100.32/27' },
  // Nothing answers here: site-b stays configured but down.
  siteB: { outside: '192.0.2.3', lanNet: '198.51.100.64/27' },
  rwPool: '198.51.100.128/28',
  xauthPool: '198.51.100.144/28',
  viciPort: 4502,
  // Road warriors get their own gateway identity, otherwise IKEv1 main mode may pick the site-to-site PSK.
  ids: { gwSite: 'gw-s2s.example', gwRw: 'gw-rw.example', siteA: 'site-a.example', siteB: 'site-b.example' },
  psk: { siteA: 'site-a-lab-psk', siteB: 'site-b-lab-psk', rw: 'road-warrior-lab-psk' },
} as const;

/**
 * A bypass and a drop policy of each gateway, trapped (installed). Never 192.0.2.0/24: under
 * kernel-libipsec a trapped shunt for the lab's own LAN cuts it off.
 */
export const SHUNTS = {
  pass: { conn: 'bypass', child: 'bypass-lab', stroke: 'bypass-lab', local: '198.51.100.160/28', remote: '198.51.100.176/28' },
  drop: { conn: 'blackhole', child: 'drop-lab', stroke: 'drop-lab', local: '198.51.100.192/28', remote: '198.51.100.208/28' },
} as const;

export type ClientKind = 'site' | 'eap' | 'xauth';

export interface ClientPlan {
  /** Namespace suffix and, for road warriors, the user name. */
  name: string;
  kind: ClientKind;
  outside: string;
  password: string;
}

export const CLIENTS: Record<'siteA' | 'alice' | 'bob' | 'carol', ClientPlan> = {
  siteA: { name: 'pa', kind: 'site', outside: PLAN.siteA.outside, password: PLAN.psk.siteA },
  alice: { name: 'alice', kind: 'eap', outside: '192.0.2.11', password: 'alice-lab-pass' },
  bob: { name: 'bob', kind: 'eap', outside: '192.0.2.12', password: 'bob-lab-pass' },
  carol: { name: 'carol', kind: 'xauth', outside: '192.0.2.13', password: 'carol-lab-pass' },
};

// Only plugins shipped in the Debian packages the lab needs; an explicit list keeps the system's
// /etc/strongswan.d out of the picture.
const PLUGINS = [
  'kernel-libipsec',
  'kernel-netlink',
  'socket-default',
  'updown',
  'attr',
  'eap-identity',
  'eap-mschapv2',
  'xauth-generic',
  'openssl',
  'nonce',
  'random',
  'aes',
  'sha1',
  'sha2',
  'hmac',
  'kdf',
  'gmp',
  'x509',
  'pubkey',
  'pem',
  'pkcs1',
  'counters',
];

export interface StrongswanConfOptions {
  logFile: string;
  /** tcp://… VICI socket; omitted for a stroke-only daemon. */
  viciSocket?: string;
  stroke?: boolean;
}

export function strongswanConf(o: StrongswanConfOptions): string {
  const plugins = [...PLUGINS, ...(o.viciSocket ? ['vici'] : []), ...(o.stroke ? ['stroke'] : [])];
  return `charon {
  load = ${plugins.join(' ')}
  # A lost peer must fail within seconds, not minutes, so lab waits stay short.
  retransmit_timeout = 1.0
  retransmit_base = 1.4
  retransmit_tries = 3
  filelog {
    lab {
      path = ${o.logFile}
      append = yes
      flush_line = yes
      time_format = %H:%M:%S
      ike_name = yes
      default = 1
      ike = 2
      cfg = 2
    }
  }
  plugins {
    vici {
      socket = ${o.viciSocket ?? 'unix:///var/run/charon.vici'}
    }
  }
}
swanctl {
  socket = ${o.viciSocket ?? 'unix:///var/run/charon.vici'}
  # Without a list swanctl tries its compiled-in defaults and buries every error in "failed to load" noise.
  load = random nonce openssl pem pkcs1 x509 pubkey
}
`;
}

/** swanctl.conf of the VICI gateway. */
export function gatewaySwanctlConf(): string {
  const { gw, siteA, siteB, ids, psk } = PLAN;
  const site = (name: string, child: string, peer: string, peerId: string, remoteNet: string) => `  ${name} {
    version = 2
    local_addrs = ${gw.outside}
    remote_addrs = ${peer}
    local {
      auth = psk
      id = ${ids.gwSite}
    }
    remote {
      auth = psk
      id = ${peerId}
    }
    children {
      ${child} {
        local_ts = ${gw.lanNet}
        remote_ts = ${remoteNet}
      }
    }
  }
`;
  return `connections {
${site('site-a', 'net-a', siteA.outside, ids.siteA, siteA.lanNet)}  # Certificate-based: the gateway's certificate and the CA's CRL are what the certificate metrics report.
  site-b {
    version = 2
    local_addrs = ${gw.outside}
    remote_addrs = ${siteB.outside}
    local {
      auth = pubkey
      certs = gw.crt
      id = ${PKI_NAMES.gwSan}
    }
    remote {
      auth = pubkey
      id = ${ids.siteB}
    }
    children {
      net-b {
        local_ts = ${gw.lanNet}
        remote_ts = ${siteB.lanNet}
      }
    }
  }
  # Shunts: policies, not tunnels. Trapped, so charon installs them; prefixes nobody in the lab uses.
  bypass {
    children {
      bypass-lab {
        local_ts = ${SHUNTS.pass.local}
        remote_ts = ${SHUNTS.pass.remote}
        mode = pass
        start_action = trap
      }
    }
  }
  blackhole {
    children {
      drop-lab {
        local_ts = ${SHUNTS.drop.local}
        remote_ts = ${SHUNTS.drop.remote}
        mode = drop
        start_action = trap
      }
    }
  }
  rw-eap {
    version = 2
    local_addrs = ${gw.outside}
    pools = rw-pool
    local {
      auth = psk
      id = ${ids.gwRw}
    }
    remote {
      auth = eap-mschapv2
      eap_id = %any
    }
    children {
      rw-eap-net {
        local_ts = ${gw.lanNet}
      }
    }
  }
  rw-xauth {
    version = 1
    local_addrs = ${gw.outside}
    pools = rw-xauth-pool
    local {
      auth = psk
      id = ${ids.gwRw}
    }
    remote-1 {
      auth = psk
    }
    remote-2 {
      auth = xauth
    }
    children {
      rw-xauth-net {
        local_ts = ${gw.lanNet}
      }
    }
  }
}
pools {
  rw-pool {
    addrs = ${PLAN.rwPool}
  }
  rw-xauth-pool {
    addrs = ${PLAN.xauthPool}
  }
}
secrets {
  ike-site-a {
    id-1 = ${ids.gwSite}
    id-2 = ${ids.siteA}
    secret = "${psk.siteA}"
  }
  ike-site-b {
    id-1 = ${ids.gwSite}
    id-2 = ${ids.siteB}
    secret = "${psk.siteB}"
  }
  ike-rw {
    id = ${ids.gwRw}
    secret = "${psk.rw}"
  }
${userSecrets()}}
`;
}

function userSecrets(): string {
  return [CLIENTS.alice, CLIENTS.bob, CLIENTS.carol]
    .map(
      (c) => `  ${c.kind}-${c.name} {
    id = ${c.name}
    secret = "${c.password}"
  }
`,
    )
    .join('');
}

/** The IKE and child name each client initiates. */
export function clientConnName(c: ClientPlan): { ike: string; child: string } {
  return c.kind === 'site' ? { ike: 'site-a', child: 'net-a' } : { ike: 'home', child: 'home' };
}

/** swanctl.conf of a peer gateway or road-warrior client; all of them initiate towards the gateway. */
export function clientSwanctlConf(c: ClientPlan): string {
  const { gw, siteA, ids, psk } = PLAN;
  if (c.kind === 'site') {
    return `connections {
  site-a {
    version = 2
    local_addrs = ${c.outside}
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
      net-a {
        local_ts = ${siteA.lanNet}
        remote_ts = ${gw.lanNet}
      }
    }
  }
}
secrets {
  ike-gw {
    id-1 = ${ids.siteA}
    id-2 = ${ids.gwSite}
    secret = "${psk.siteA}"
  }
}
`;
  }
  const local =
    c.kind === 'eap'
      ? `    local {
      # The IKE identity stays the client's address, as with most road warriors; the user is the EAP identity.
      auth = eap-mschapv2
      eap_id = ${c.name}
    }
`
      : `    local-1 {
      auth = psk
    }
    local-2 {
      auth = xauth
      xauth_id = ${c.name}
    }
`;
  return `connections {
  home {
    version = ${c.kind === 'eap' ? 2 : 1}
    local_addrs = ${c.outside}
    remote_addrs = ${gw.outside}
    vips = 0.0.0.0
${local}    remote {
      auth = psk
      id = ${ids.gwRw}
    }
    children {
      home {
        remote_ts = ${gw.lanNet}
      }
    }
  }
}
secrets {
  ike-gw {
    id = ${ids.gwRw}
    secret = "${psk.rw}"
  }
  ${c.kind}-user {
    id = ${c.name}
    secret = "${c.password}"
  }
}
`;
}

/** Path at which the stroke gateway sees the included file (a bind mount of the lab's copy). */
export const STROKE_INCLUDE_DIR = '/etc/ipsec.d/policies';
export const STROKE_INCLUDE_FILE = `${STROKE_INCLUDE_DIR}/lab-extra.conf`;

/** ipsec.conf of the stroke gateway; site-b and the ignored conn live in the included file. */
export function strokeIpsecConf(): string {
  const { gw, siteA, ids } = PLAN;
  return `# strongSwan stroke gateway of the vpn-exporter test lab
config setup
    uniqueids = yes

conn %default
    keyexchange = ikev2
    left = ${gw.outside}
    leftsubnet = ${gw.lanNet}
    dpdaction = clear
    dpddelay = 30s

conn site-a
    leftid = @${ids.gwSite}
    leftauth = psk
    right = ${siteA.outside}
    rightid = @${ids.siteA}
    rightauth = psk
    rightsubnet = ${siteA.lanNet}
    auto = add

conn rw-eap
    leftid = @${ids.gwRw}
    leftauth = psk
    right = %any
    rightauth = eap-mschapv2
    eap_identity = %any
    rightsourceip = ${PLAN.rwPool}
    auto = add

include ${STROKE_INCLUDE_FILE}
`;
}

export function strokeIncludedConf(): string {
  const { siteB, ids } = PLAN;
  return `# Included from ipsec.conf: a configured tunnel whose peer never answers, and a parked conn.
conn site-b
    leftid = @${PKI_NAMES.gwSan}
    leftcert = gw.crt
    leftauth = pubkey
    right = ${siteB.outside}
    rightid = @${ids.siteB}
    rightauth = pubkey
    rightsubnet = ${siteB.lanNet}
    auto = add

# Shunts, as pfSense writes its "bypass" conn: policies charon installs, not tunnels.
conn ${SHUNTS.pass.stroke}
    leftsubnet = ${SHUNTS.pass.local}
    rightsubnet = ${SHUNTS.pass.remote}
    authby = never
    type = passthrough
    auto = route

conn ${SHUNTS.drop.stroke}
    leftsubnet = ${SHUNTS.drop.local}
    rightsubnet = ${SHUNTS.drop.remote}
    authby = never
    type = drop
    auto = route

conn parked
    right = 192.0.2.99
    rightsubnet = 198.51.100.96/27
    authby = psk
    auto = ignore
`;
}

export function strokeIpsecSecrets(): string {
  const { ids, psk } = PLAN;
  return `@${ids.gwSite} @${ids.siteA} : PSK "${psk.siteA}"
@${ids.gwSite} @${ids.siteB} : PSK "${psk.siteB}"
@${ids.gwRw} : PSK "${psk.rw}"
: ECDSA gw.key
${CLIENTS.alice.name} : EAP "${CLIENTS.alice.password}"
${CLIENTS.bob.name} : EAP "${CLIENTS.bob.password}"
`;
}
