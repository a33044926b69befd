import { Counter, Gauge, type Registry } from 'prom-client';

type Labels<L extends string> = Record<L, string>;

/** A family that takes absolute values: Gauge, or Counter set once on a fresh registry. */
export interface Family<L extends string> {
  set(labels: Labels<L>, value: number): void;
}

export function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Family<L> {
  const g = new Gauge<L>({ name, help, labelNames, registers: [registry] });
  return { set: (labels, value) => g.set(labels, value) };
}

/**
 * Counters mirror the gateway's own cumulative counts; each registry lives for one
 * request, so "incrementing" from zero sets the value once.
 */
export function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Family<L> {
  const c = new Counter<L>({ name, help, labelNames, registers: [registry] });
  return {
    set: (labels, value) => {
      if (Number.isFinite(value) && value >= 0) c.inc(labels, value);
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
export const key = (...parts: string[]): string => parts.join('\u0000');
