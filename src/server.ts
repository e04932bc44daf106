import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Deps } from "./deps";
import { createHttpApp } from "./http/create-http-app";

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Serves the HTTP app, webhooks included; `port` 0 picks a free port (tests). */
export async function startServer(deps: Deps, port = deps.config.port, host?: string): Promise<RunningServer> {
  if (!deps.probot) throw new Error("the server needs the GitHub App's id and private key");
  const server = createServer(createHttpApp(deps));
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
