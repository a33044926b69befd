import type { TunnelKind } from '../../model/snapshot.js';

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
  children: string[];
}
