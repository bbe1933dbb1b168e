/**
 * A free loopback port for a server started by port number, drawn from below the kernel's ephemeral range
 * and checked by binding it (see free-port.mjs).
 */
export function freePort(host?: string): Promise<number>;
