import { cleanTerminalText } from './prompt.js';

/**
 * `show high-availability state`. The XML API's `<show><high-availability><state/>` answer
 * has the same parts (enabled, group/mode, local-info/state, peer-info/state and
 * conn-status), so an XML reader can fill the same record.
 */
export interface PanosHaState {
  enabled: boolean;
  /** `Active-Passive`, `Active-Active`. */
  mode?: string;
  /** `active`, `passive`, `suspended`, `non-functional`, `initial`, `tentative`, `active-primary`, ... */
  localState?: string;
  peerState?: string;
  /** `up` or `down`: whether the HA1 link to the peer is up. */
  peerConnection?: string;
}

/*
 * A unit without HA answers `HA not enabled.` (or nothing); an HA unit prints a group with
 * `Local Information:` and `Peer Information:` sections of `Key: value` lines. Keys are
 * found by name within their section; the rest (priorities, compatibility, links) is
 * read past.
 */
export function parseHaState(text: string): PanosHaState {
  const out: PanosHaState = { enabled: false };
  let section: 'group' | 'local' | 'peer' | 'other' = 'group';
  for (const raw of cleanTerminalText(text).split('\n')) {
    const line = raw.trim();
    if (/^Local Information:?$/i.test(line)) {
      section = 'local';
      out.enabled = true;
      continue;
    }
    if (/^Peer Information:?$/i.test(line)) {
      section = 'peer';
      continue;
    }
    if (/^[A-Za-z][\w -]* Information:?$/i.test(line)) {
      section = 'other';
      continue;
    }
    const kv = /^([A-Za-z][\w -]*?)\s*:\s*(.*)$/.exec(line);
    if (!kv) continue;
    const key = (kv[1] ?? '').toLowerCase();
    const value = (kv[2] ?? '').trim();
    if (key === 'enabled') out.enabled = /^(?:yes|true)$/i.test(value);
    else if (key === 'mode' && (section === 'group' || section === 'local') && out.mode === undefined && value !== '') out.mode = value;
    else if (key === 'state' && (section === 'local' || section === 'peer')) {
      // `active (last 51 minutes)`
      const word = /^([A-Za-z][\w-]*)/.exec(value)?.[1]?.toLowerCase();
      if (word && section === 'local') out.localState ??= word;
      if (word && section === 'peer') out.peerState ??= word;
    } else if (key === 'connection status' && section === 'peer') {
      const word = /^([A-Za-z][\w-]*)/.exec(value)?.[1]?.toLowerCase();
      if (word) out.peerConnection = word;
    }
  }
  return out;
}

/**
 * HA states in which a unit does not carry traffic: its tunnels are on standby, not down
 * (the peer carries them). `active`, `active-primary` and `active-secondary` carry traffic.
 */
export function isStandbyHaState(state: string | undefined): boolean {
  return state !== undefined && ['passive', 'suspended', 'non-functional', 'initial', 'tentative'].includes(state.toLowerCase());
}
