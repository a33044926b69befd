// Shared with the browser script (web/client/result.ts), which bundles this very
// module: keep it pure, no Node or DOM API. Both tsconfig projects check it.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB": counters as people compare them. */
export function humanBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${UNITS[u]}`;
}

/** 3725 → "1h 2m": the two largest units are enough to tell sessions apart. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const parts: [number, string][] = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor((s % 86400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([v]) => v > 0);
  if (first < 0) return '0s';
  return parts
    .slice(first, first + 2)
    .filter(([v]) => v > 0)
    .map(([v, unit]) => `${v}${unit}`)
    .join(' ');
}

/** How far a time is from now: "in 29d 4h" or "3d ago". */
export function fromNow(timestampSeconds: number, nowSeconds: number): string {
  const delta = timestampSeconds - nowSeconds;
  return delta >= 0 ? `in ${humanDuration(delta)}` : `${humanDuration(-delta)} ago`;
}
