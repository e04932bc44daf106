import { isIPv6 } from "node:net";
import type { Request } from "express";

/**
 * The address rate limits count against: express's req.ip, which follows the app's `trust proxy`
 * setting (X-Forwarded-For only from a proxy on loopback). On Lambda serverless-http sets it to
 * the event's source IP, which API Gateway fills in itself. An IPv6 client counts by its /64: one
 * host usually holds a whole /64 and could otherwise take a fresh address for every request.
 */
export function clientAddress(req: Request): string {
  const address = (req.ip ?? req.socket?.remoteAddress ?? "unknown").replace(/%.*$/, "");
  if (!isIPv6(address)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  const [head, tail] = address.split("::");
  const groups = (part: string | undefined) => (part ? part.split(":").flatMap((g) => (g.includes(".") ? ["0", "0"] : [g])) : []);
  const [before, after] = [groups(head), groups(tail)];
  const all = tail === undefined ? before : [...before, ...Array(8 - before.length - after.length).fill("0"), ...after];
  return `${all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`;
}
