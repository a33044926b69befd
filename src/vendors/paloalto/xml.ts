import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ProtocolError } from '../../util/errors.js';

/**
 * The XML API's envelope: `<response status="success|error" [code="N"]>`, holding `<result>`
 * on success and the device's words (`<msg>`, `<result><msg>`, `<msg><line>`) on error.
 *
 * Elements are read with fast-xml-parser (pure JS, no native code, widely used) into plain
 * objects: an element with text only is its string, one with children an object, a repeated
 * one an array. `entry`, `Gateway` and `line` are always arrays, so one entry and several read
 * alike. Values stay strings: numbers go through parseCount, which refuses what a JS number
 * cannot hold exactly (a 64-bit counter beyond 2^53).
 */
export type XmlNode = string | XmlObject | XmlNode[];
export interface XmlObject {
  [name: string]: XmlNode;
}

export interface ApiResponse {
  status: string;
  /** The `code` attribute (PAN-OS error codes: 1 unknown command, 17 invalid command, 403 ...). */
  code?: string;
  /** The device's words on error, lines joined. */
  message?: string;
  /** `<result>`, or an empty object when absent. */
  result: XmlObject;
}

const ALWAYS_ARRAY = new Set(['entry', 'Gateway', 'line']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  isArray: (name) => ALWAYS_ARRAY.has(name),
});

/** Reads an answer of `/api/`. Throws ProtocolError for anything that is not that envelope. */
export function readApiResponse(text: string): ApiResponse {
  // PAN-OS never sends a DTD; refusing one keeps entity expansion out of the question.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new ProtocolError('the answer carries a DTD; the PAN-OS XML API sends none');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new ProtocolError(`the answer is not XML: ${valid.err.msg} (line ${valid.err.line})`);
  const doc = parser.parse(text) as XmlObject;
  const response = doc.response;
  if (response === undefined || typeof response !== 'object' || Array.isArray(response)) {
    throw new ProtocolError('the answer is XML but not a PAN-OS API <response>');
  }
  const status = text1(response['@status']) ?? '';
  const code = text1(response['@code']);
  const result = asObject(response.result);
  const out: ApiResponse = { status, result };
  if (code !== undefined) out.code = code;
  if (status !== 'success') {
    const words = [...collectText(response.msg), ...collectText(result.msg)].join(' ').replace(/\s+/g, ' ').trim();
    if (words !== '') out.message = words;
  }
  return out;
}

/** Every piece of text below a node, in document order. */
function collectText(node: XmlNode | undefined): string[] {
  if (node === undefined) return [];
  if (typeof node === 'string') return node === '' ? [] : [node];
  if (Array.isArray(node)) return node.flatMap((n) => collectText(n));
  return Object.entries(node)
    .filter(([k]) => !k.startsWith('@'))
    .flatMap(([, v]) => collectText(v));
}

/** An element's text: a string, or `#text` of an element with attributes. Undefined for anything else. */
export function text1(node: XmlNode | undefined): string | undefined {
  if (typeof node === 'string') return node;
  if (node !== undefined && !Array.isArray(node) && typeof node['#text'] === 'string') return node['#text'];
  return undefined;
}

/** A child's text, trimmed; undefined when absent or empty. */
export function field(node: XmlObject, name: string): string | undefined {
  const v = text1(node[name])?.trim();
  return v === undefined || v === '' ? undefined : v;
}

export function asObject(node: XmlNode | undefined): XmlObject {
  return node !== undefined && typeof node === 'object' && !Array.isArray(node) ? node : {};
}

/** The `entry` (or other always-array) children that are elements, skipping anything else. */
export function children(node: XmlNode | undefined, name: string): XmlObject[] {
  const v = asObject(node)[name];
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.filter((e): e is XmlObject => typeof e === 'object' && !Array.isArray(e));
}
