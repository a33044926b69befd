/**
 * What a module lets a probe's answer hold (modules.yaml `detail`, `user_labels`,
 * `max_users`): the cardinality and privacy controls. One policy per module, applied in
 * one place, the metric set, to the core family and every vendor's alike.
 */

/**
 * Detail levels, each including the ones before it: `tunnels` (the gateway, its tunnels,
 * pools, certificates), `users` (plus one series set per user or peer), `sas` (plus per-SA
 * and per-child detail: IKE/CHILD_SA families, `vpn_tunnel_child_up`). `sas` is the full
 * output and the default.
 */
export const DETAIL_LEVELS = ['tunnels', 'users', 'sas'] as const;
export type Detail = (typeof DETAIL_LEVELS)[number];

/** How user identities appear: as the gateway names them, as a keyed hash, or not at all. */
export const USER_LABEL_MODES = ['plain', 'hashed', 'dropped'] as const;
export type UserLabelMode = (typeof USER_LABEL_MODES)[number];

export interface ExpositionPolicy {
  detail: Detail;
  userLabels: UserLabelMode;
  /** Users (tunnel, user) that keep their own series; the rest are summed into OVERFLOW_USER. */
  maxUsers?: number;
  /** The module's keyed pseudonym of a user name (privacy.ts), with `user_labels: hashed`. */
  hashUser?: (name: string) => string;
}

export const FULL_DETAIL: ExpositionPolicy = { detail: 'sas', userLabels: 'plain' };

/** The `tunnel` and `user` labels of the series that sums the users beyond max_users. */
export const OVERFLOW_USER = '__overflow__';

export function includesLevel(detail: Detail, level: Detail): boolean {
  return DETAIL_LEVELS.indexOf(level) <= DETAIL_LEVELS.indexOf(detail);
}
