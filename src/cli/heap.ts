import { setFlagsFromString } from 'node:v8';
import { keepYoungGenerationSmall } from '../util/young-generation.js';

/*
 * V8's defaults suit a short script that wants throughput: the young generation grows to
 * 2 x 16 MiB and the old one to several times what survives a full collection before it is
 * collected again. An exporter answering refused probes then sat at 150-170 MB of RSS while
 * its live heap was under 20 MB. Both settings below are read by V8 at every collection,
 * so they take effect from here on (main.ts imports this module first, before the rest
 * loads), unlike --max-semi-space-size, which only the command line can set.
 *
 * - the young generation stays at its initial size (1 MiB semi-spaces) until the exporter
 *   reads its first large answer (src/util/young-generation.ts): a small probe's garbage
 *   dies young either way, and scavenges of a small space cost as little as of a large one;
 * - the old generation may grow by 30% past what survived the last full collection,
 *   instead of up to 4x.
 *
 * An operator who sizes the heap on the command line or in NODE_OPTIONS keeps their choice:
 * then neither is set.
 */
const HEAP_FLAGS = /--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor|heap-growing-percent)\b/;
if (!HEAP_FLAGS.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`)) {
  keepYoungGenerationSmall();
  setFlagsFromString('--heap-growing-percent=30');
}
