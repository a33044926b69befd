/*
 * PAN-OS prints most operational tables as a header row, a row of dash runs under it
 * (one run per column) and one row per entry. The dash runs give the column starts even
 * where a column name holds a space (`GwID/client IP`, `Gateway ID`) and where two names
 * are one space apart (`Role SN`). Values are not trusted to stay inside their columns
 * (a long tunnel name pushes the rest of its row to the right), so a row is read token by
 * token: when it has one token per column they are taken in order, otherwise each token
 * goes to the column it starts under (blank cells, values with spaces).
 */

export interface TableColumn {
  /** The header text of the column, as printed. */
  name: string;
  start: number;
}

/** The columns of `header`, cut where the dash runs of `dashes` start; undefined if `dashes` is not such a row. */
export function columnsFromDashes(header: string, dashes: string): TableColumn[] | undefined {
  if (!/^\s*-+(?:\s+-+)*\s*$/.test(dashes)) return undefined;
  const starts = [...dashes.matchAll(/-+/g)].map((m) => m.index ?? 0);
  if (starts.length === 0) return undefined;
  const cols = starts.map((start, i) => ({
    name: header.slice(i === 0 ? 0 : start, starts[i + 1] ?? header.length).trim(),
    start,
  }));
  return cols.every((c) => c.name !== '') ? cols : undefined;
}

/** PAN-OS dates without a year, `Jun.04 21:09:13`, are one value in two tokens. */
const DATE_TIME = /\b([A-Z][a-z]{2}\.\d{1,2}) (\d{1,2}:\d{2}:\d{2})\b/g;

/** One row as `column name -> value`; columns without a value are absent. */
export function readRow(line: string, columns: readonly TableColumn[]): Map<string, string> {
  const joined = line.replace(DATE_TIME, '$1\u0000$2');
  const tokens = [...joined.matchAll(/\S+/g)].map((m) => ({ text: m[0].replace(/\u0000/g, ' '), at: m.index ?? 0 }));
  const row = new Map<string, string>();
  if (tokens.length === columns.length) {
    for (const [i, c] of columns.entries()) row.set(c.name, tokens[i]?.text ?? '');
    return row;
  }
  for (const t of tokens) {
    let col = columns[0];
    for (const c of columns) if (c.start <= t.at) col = c;
    if (!col) continue;
    const prev = row.get(col.name);
    row.set(col.name, prev === undefined ? t.text : `${prev} ${t.text}`);
  }
  return row;
}

/** The value of the first column whose name matches, ignoring case. */
export function cell(row: Map<string, string>, ...names: RegExp[]): string | undefined {
  for (const re of names) {
    for (const [k, v] of row) if (re.test(k)) return v;
  }
  return undefined;
}
