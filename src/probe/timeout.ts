/**
 * The probe's time budget, as blackbox_exporter computes it: Prometheus' scrape
 * timeout less an offset (so the answer arrives before Prometheus gives up), capped
 * by the module's own timeout. Returns an error string for a malformed header.
 */
export function probeTimeoutMs(moduleTimeoutMs: number, scrapeTimeoutHeader: string | undefined, offsetSeconds: number): number | string {
  if (scrapeTimeoutHeader === undefined || scrapeTimeoutHeader === '') return moduleTimeoutMs;
  const seconds = Number(scrapeTimeoutHeader);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    return `X-Prometheus-Scrape-Timeout-Seconds is not a positive number: ${JSON.stringify(scrapeTimeoutHeader.slice(0, 40))}`;
  }
  const budgetMs = (seconds - offsetSeconds) * 1000;
  if (budgetMs <= 0) return moduleTimeoutMs;
  return Math.min(moduleTimeoutMs, budgetMs);
}
