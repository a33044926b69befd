/** Packet types: the byte after a segment's length prefix. */
export const CMD_REQUEST = 0;
export const CMD_RESPONSE = 1;
export const CMD_UNKNOWN = 2;
export const EVENT_REGISTER = 3;
export const EVENT_UNREGISTER = 4;
export const EVENT_CONFIRM = 5;
export const EVENT_UNKNOWN = 6;
export const EVENT = 7;

export type PacketType =
  | typeof CMD_REQUEST
  | typeof CMD_RESPONSE
  | typeof CMD_UNKNOWN
  | typeof EVENT_REGISTER
  | typeof EVENT_UNREGISTER
  | typeof EVENT_CONFIRM
  | typeof EVENT_UNKNOWN
  | typeof EVENT;

/** Element types inside a message. */
export const SECTION_START = 1;
export const SECTION_END = 2;
export const KEY_VALUE = 3;
export const LIST_START = 4;
export const LIST_ITEM = 5;
export const LIST_END = 6;

/** charon refuses segments above this, so a peer announcing more is not charon. */
export const MAX_SEGMENT_BYTES = 512 * 1024;

/** Names and keys carry a u8 length; values a u16 length. */
export const MAX_NAME_BYTES = 0xff;
export const MAX_VALUE_BYTES = 0xffff;
