import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Deps } from "./deps";
import { createHttpApp, webhookHandlerOf } from "./http/create-http-app";
import { setSecurityHeaders } from "./http/security-headers";
import { isWebhookRequest } from "./http/webhook-route";

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Serves the HTTP app, webhooks included; `port` 0 picks a free port (tests). */
export async function startServer(deps: Deps, port = deps.config.port, host?: string): Promise<RunningServer> {
  if (!deps.probot) throw new Error("the server needs the GitHub App's id and private key");
  const webhook = webhookHandlerOf(deps);
  const app = createHttpApp(deps, webhook);
  // GitHub's deliveries (the bulk of the traffic) go straight to their handler, as Probot's
  // createNodeMiddleware serves them; express's routing costs more per request than storing one.
  const https = deps.config.baseUrl?.startsWith("https://") ?? false;
  const server = createServer((req, res) => {
    if (!isWebhookRequest(req)) return void app(req, res);
    setSecurityHeaders(res, https);
    webhook(req, res).catch((error) => {
      deps.log.error({ err: error }, "webhook request failed");
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const { port: actualPort } = server.address() as AddressInfo;
  const url = `http://${host ?? "localhost"}:${actualPort}`;
  return {
    server,
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
