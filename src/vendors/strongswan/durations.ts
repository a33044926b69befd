const UNIT_SECONDS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86400 };

/**
 * Seconds from charon's `%V` time deltas (`1 second`, `45 minutes`, `2 hours`,
 * `3 days`). charon switches unit above twice the unit and truncates, so the
 * value is a lower bound: `45 minutes` means 2700 to 2759 seconds.
 */
export function parseCharonDuration(text: string): number | undefined {
  const m = /^(\d{1,12}) (second|minute|hour|day)s?$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (UNIT_SECONDS[m[2] ?? ''] ?? 0);
}

/** The range a truncated `%V` delta stands for: `45 minutes` is [2700, 2759]. */
export function charonDurationRange(text: string): { min: number; max: number } | undefined {
  const m = /^(\d{1,12}) (second|minute|hour|day)s?$/.exec(text.trim());
  if (!m) return undefined;
  const unit = UNIT_SECONDS[m[2] ?? ''] ?? 0;
  const min = Number(m[1]) * unit;
  return { min, max: min + unit - 1 };
}
