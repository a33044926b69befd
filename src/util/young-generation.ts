import { setFlagsFromString } from 'node:v8';

/*
 * V8's young generation as the exporter runs it (src/cli/heap.ts starts the policy): at its
 * initial 1 MiB while the exporter only sees small answers, so its resident set stays low,
 * and free to grow as V8 would (up to 2 x 16 MiB) from the first large answer on. A hub's
 * 10,000 SAs keep ~9 MB alive through the probe; a 1 MiB young generation copies all of it
 * twice, in dozens of scavenges, a third of the probe's CPU. One way only: let go of again
 * after each large probe, the space never had the time to grow (V8 grows it by steps, each
 * after as much has survived as it holds).
 */
let managed = false;
let grown = false;

/** From now on the young generation keeps the size it has (heap.ts, at start-up). */
export function keepYoungGenerationSmall(): void {
  managed = true;
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** A large answer is being read: from now on V8 grows the young generation as it would by default. Not when the operator sized the heap. */
export function letYoungGenerationGrow(): void {
  if (!managed || grown) return;
  grown = true;
  setFlagsFromString('--semi-space-growth-factor=2');
}
