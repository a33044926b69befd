/**
 * Grouping for the families of a large gateway, without a joined string key or an array
 * per group. A family keyed by (conn, child) used to group its items in a Map keyed by the
 * label values joined with NUL: on a hub of 7,500 conns that was 7,500 keys and arrays per
 * family, kept alive until the family was written, and most of a probe's garbage.
 *
 * Rows numbers each distinct (parent row, name) in order of first appearance, so series
 * written row by row come out in the order the Map's insertion order gave. The values of a
 * row live in Columns beside it, indexed by row number. Both are sized once, for as many
 * rows as there are items, in typed arrays: memory outside the JS heap, which a scavenge
 * neither scans nor copies, where arrays grown item by item were copied at every growth.
 */

/** A parent with more rows than this is looked up in a Map rather than by scanning its list. */
const SCAN = 8;

export class Rows {
  /** Per row: its name, and its parent's row (in the Rows it hangs under, or 0 at the top). */
  readonly names: string[];
  readonly parents: Int32Array;
  private count = 0;
  /** Per row: the next row of the same parent, -1 after the last. */
  private readonly nextOf: Int32Array;
  /** Per parent: its first and last row (-1 for none) and how many it has. */
  private readonly firstOf: Int32Array;
  private readonly lastOf: Int32Array;
  private readonly countOf: Int32Array;
  /** Parents with many rows (a concentrator's users, a hub's conns): name → row. */
  private readonly wide = new Map<number, Map<string, number>>();

  /** At most `capacity` rows under at most `parentCapacity` parents (row numbers of the level above). */
  constructor(capacity: number, parentCapacity = 1) {
    this.names = new Array<string>(capacity);
    this.parents = new Int32Array(capacity);
    this.nextOf = new Int32Array(capacity);
    this.firstOf = new Int32Array(parentCapacity).fill(-1);
    this.lastOf = new Int32Array(parentCapacity);
    this.countOf = new Int32Array(parentCapacity);
  }

  get size(): number {
    return this.count;
  }

  get capacity(): number {
    return this.parents.length;
  }

  /** The row of `name` under `parent`, made (as the next number) when it is the first of its kind. */
  row(parent: number, name: string): number {
    const count = this.countOf[parent] as number;
    if (count > SCAN) {
      const byName = this.wide.get(parent) as Map<string, number>;
      const found = byName.get(name);
      if (found !== undefined) return found;
      const made = this.add(parent, name);
      byName.set(name, made);
      return made;
    }
    for (let r = this.firstOf[parent] as number; r >= 0; r = this.nextOf[r] as number) if (this.names[r] === name) return r;
    const made = this.add(parent, name);
    if (count + 1 > SCAN) {
      const byName = new Map<string, number>();
      for (let r = this.firstOf[parent] as number; r >= 0; r = this.nextOf[r] as number) byName.set(this.names[r] as string, r);
      this.wide.set(parent, byName);
    }
    return made;
  }

  private add(parent: number, name: string): number {
    const made = this.count++;
    this.names[made] = name;
    this.parents[made] = parent;
    this.nextOf[made] = -1;
    const last = this.lastOf[parent] as number;
    if (this.countOf[parent] === 0) this.firstOf[parent] = made;
    else this.nextOf[last] = made;
    this.lastOf[parent] = made;
    this.countOf[parent] = (this.countOf[parent] as number) + 1;
    return made;
  }
}

const SUM = 0;
const MIN = 1;
const MAX = 2;

/**
 * One number per row, folded over the items of the row as sum(), min() and max() of
 * family.ts fold them, in the same order (undefined is skipped; a row that saw no value has
 * none, so its series is left out, not written as 0).
 */
export class Column {
  private readonly values: Float64Array;
  private readonly known: Uint8Array;

  private constructor(
    private readonly op: number,
    capacity: number,
  ) {
    this.values = new Float64Array(capacity);
    this.known = new Uint8Array(capacity);
  }

  static sum(capacity: number): Column {
    return new Column(SUM, capacity);
  }

  static min(capacity: number): Column {
    return new Column(MIN, capacity);
  }

  static max(capacity: number): Column {
    return new Column(MAX, capacity);
  }

  add(row: number, v: number | undefined): void {
    if (v === undefined) return;
    if (this.known[row] === 0) {
      this.known[row] = 1;
      this.values[row] = this.op === SUM ? 0 + v : v;
      return;
    }
    const best = this.values[row] as number;
    if (this.op === SUM) this.values[row] = best + v;
    else if (this.op === MIN ? v < best : v > best) this.values[row] = v;
  }

  /** The row's value, or undefined when it saw none. */
  get(row: number): number | undefined {
    return this.known[row] === 1 ? this.values[row] : undefined;
  }
}

/** How many times each row was counted. */
export class Counts {
  private readonly counts: Int32Array;

  constructor(capacity: number) {
    this.counts = new Int32Array(capacity);
  }

  add(row: number): void {
    this.counts[row] = (this.counts[row] as number) + 1;
  }

  get(row: number): number {
    return this.counts[row] as number;
  }
}
