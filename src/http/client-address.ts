import type { Request } from "express";

/**
 * The address rate limits count against: express's req.ip, which follows the app's `trust proxy`
 * setting (X-Forwarded-For only from a proxy on loopback). On Lambda serverless-http sets it to
 * the event's source IP, which API Gateway fills in itself.
 */
export function clientAddress(req: Request): string {
  return req.ip ?? req.socket?.remoteAddress ?? "unknown";
}
