import type { FamilyScope, MetricSet } from './metric-set.js';

type Labels<L extends string> = Record<L, string>;

/** A family that takes absolute values, as the gateway reports them. */
export interface Family<L extends string> {
  set(labels: Labels<L>, value: number): void;
}

/** `scope` places the family under the module's detail level and user policy (see FamilyScope). */
export function gauge<L extends string>(set: MetricSet, name: string, help: string, labelNames: readonly L[], scope?: FamilyScope<L>): Family<L> {
  return set.family(name, help, 'gauge', labelNames, scope);
}

/** Counters mirror the gateway's own cumulative counts; a negative or non-finite reading is dropped. */
export function counter<L extends string>(set: MetricSet, name: string, help: string, labelNames: readonly L[], scope?: FamilyScope<L>): Family<L> {
  const f = set.family(name, help, 'counter', labelNames, scope);
  return {
    set: (labels, value) => {
      if (Number.isFinite(value) && value >= 0) f.set(labels, value);
    },
  };
}

/** Sums `value` over items sharing a key; keeps the first item of each group for its labels. */
export function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export function sum<T>(items: readonly T[], value: (item: T) => number | undefined): number | undefined {
  let total: number | undefined;
  for (const item of items) {
    const v = value(item);
    if (v !== undefined) total = (total ?? 0) + v;
  }
  return total;
}

export function min<T>(items: readonly T[], value: (item: T) => number | undefined): number | undefined {
  let best: number | undefined;
  for (const item of items) {
    const v = value(item);
    if (v !== undefined && (best === undefined || v < best)) best = v;
  }
  return best;
}

export function max<T>(items: readonly T[], value: (item: T) => number | undefined): number | undefined {
  let best: number | undefined;
  for (const item of items) {
    const v = value(item);
    if (v !== undefined && (best === undefined || v > best)) best = v;
  }
  return best;
}

/** Sets the value only when it is known: an absent reading is an absent series, not a zero. */
export function setKnown<L extends string>(family: Family<L>, labels: Labels<L>, value: number | undefined): void {
  if (value !== undefined) family.set(labels, value);
}

/** A NUL-separated key: label values may contain any printable character. */
export const key = (...parts: string[]): string => (parts.length === 2 ? `${parts[0]}\u0000${parts[1]}` : parts.join('\u0000'));

/**
 * The first of each name. A gateway that reports a name twice (a conn listed twice, a
 * device bug) must not make the scrape invalid: the text format forbids repeated series.
 */
export function uniqueByName<T extends { name: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(i.name) && seen.add(i.name));
}
