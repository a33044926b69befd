import type { StrongswanChildSa } from '../../model/snapshot.js';

/**
 * The SAs and CHILD_SAs of each conn, as linked lists over their positions (first, next),
 * in the order the SAs list them: no array per conn, which on a hub of 7,500 conns was
 * 15,000 arrays kept alive through the build.
 */
export class ConnLists {
  readonly firstSa: Int32Array;
  readonly nextSa: Int32Array;
  readonly firstChild: Int32Array;
  readonly nextChild: Int32Array;
  private readonly lastSa: Int32Array;
  private readonly lastChild: Int32Array;
  /** Every CHILD_SA, by position. */
  readonly children: StrongswanChildSa[];

  constructor(conns: number, sas: number, children: number) {
    this.firstSa = new Int32Array(conns).fill(-1);
    this.lastSa = new Int32Array(conns);
    this.nextSa = new Int32Array(sas).fill(-1);
    this.firstChild = new Int32Array(conns).fill(-1);
    this.lastChild = new Int32Array(conns);
    this.nextChild = new Int32Array(children).fill(-1);
    this.children = new Array<StrongswanChildSa>(children);
  }

  addSa(conn: number, sa: number): void {
    if (this.firstSa[conn] === -1) this.firstSa[conn] = sa;
    else this.nextSa[this.lastSa[conn]!] = sa;
    this.lastSa[conn] = sa;
  }

  addChild(conn: number, position: number, child: StrongswanChildSa): void {
    this.children[position] = child;
    if (this.firstChild[conn] === -1) this.firstChild[conn] = position;
    else this.nextChild[this.lastChild[conn]!] = position;
    this.lastChild[conn] = position;
  }
}
