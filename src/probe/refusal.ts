/**
 * A probe request that is not run: 400 for a bad request, 403 for a target outside the
 * module's allowed_targets, 503 when the probe caps left no slot within its budget.
 * Thrown by the probe service; the web layer turns it into the answer of its status.
 * Nothing was connected to.
 */
export class ProbeRefusal extends Error {
  override readonly name = 'ProbeRefusal';
  constructor(
    readonly status: 400 | 403 | 503,
    reason: string,
  ) {
    super(reason);
  }
}
