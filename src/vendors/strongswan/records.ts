import type { Shunt, TunnelKind } from '../../model/snapshot.js';

/*
 * strongSwan's records as its parsers return them. A live IKE_SA and its CHILD_SAs are
 * the model's StrongswanIkeSa (the snapshot carries them as vendor detail unchanged);
 * what only the builder needs lives here.
 */

/** A conn as configured (VICI list-conns or ipsec.conf), before looking at its SAs. */
export interface ConfiguredConn {
  name: string;
  kind: TunnelKind;
  /** ipsec.conf auto=ignore: reported, never alerted on. */
  ignored: boolean;
  localAddress?: string;
  remoteAddress?: string;
  /** Children that carry traffic (TUNNEL, TRANSPORT, BEET, or a mode we do not know). */
  children: string[];
  /** Children that are only PASS or DROP policies; a conn with nothing else is not a tunnel. */
  shunts?: Shunt[];
}

/** PASS/DROP as charon prints a child's mode (list-conns, statusall); undefined for any other mode. */
export function shuntMode(mode: string | undefined): Shunt['mode'] | undefined {
  const m = mode?.toUpperCase();
  return m === 'PASS' ? 'pass' : m === 'DROP' ? 'drop' : undefined;
}
