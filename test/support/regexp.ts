/** `text` as a RegExp source that matches it literally (slashes too, for use inside /…/ sources). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
