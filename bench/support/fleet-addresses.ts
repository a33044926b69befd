/**
 * Where simulated gateway i lives: 127.<net>.<1..254>.<1..254>, all loopback on Linux, so each
 * gateway has an address of its own as in a real fleet (and the exporter a distinct 4-tuple per
 * target). 64,516 gateways fit under one second octet.
 */
export function fleetHost(i: number, net: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= 254 * 254) throw new RangeError(`gateway index ${i} out of range`);
  return `127.${net}.${1 + Math.floor(i / 254)}.${1 + (i % 254)}`;
}

/** The addresses of gateways [first, first + count). */
export function fleetHosts(first: number, count: number, net: number): string[] {
  return Array.from({ length: count }, (_, k) => fleetHost(first + k, net));
}
