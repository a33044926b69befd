/**
 * Node builders for the landing page's script. Everything goes in through
 * textContent and setAttribute, never innerHTML: targets, identities and reasons
 * come from whoever typed the URL or configured the gateway.
 */

/** A child to append; null, undefined and '' are left out so callers can write conditionals inline. */
export type Child = Node | string | null | undefined;
export type Attrs = Record<string, string | number | null | undefined>;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, children?: readonly Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  for (const c of children ?? []) {
    if (c === undefined || c === null || c === '') continue;
    node.append(c instanceof Node ? c : document.createTextNode(c));
  }
  return node;
}

/** As pages/layout.ts renderTable: each cell names its column, so narrow screens can show rows as labelled cards. */
export function table(id: string, caption: string, headers: readonly string[], rows: readonly (readonly Child[])[], empty: string): HTMLElement {
  if (rows.length === 0) return el('p', { class: 'empty', id }, [empty]);
  const head = el(
    'tr',
    { role: 'row' },
    headers.map((h) => el('th', { scope: 'col', role: 'columnheader' }, [h])),
  );
  const body = rows.map((cells) =>
    el(
      'tr',
      { role: 'row' },
      cells.map((c, i) => el('td', { role: 'cell', 'data-label': headers[i] }, [c])),
    ),
  );
  return el('div', { class: 'table-wrap' }, [
    el('table', { class: 'cards', role: 'table', id }, [
      el('caption', { class: 'sr-only' }, [caption]),
      el('thead', { role: 'rowgroup' }, [head]),
      el('tbody', { role: 'rowgroup' }, body),
    ]),
  ]);
}
