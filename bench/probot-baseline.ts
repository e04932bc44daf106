// The baseline the webhook benchmarks measure Octoplex against: what `probot run` serves, Probot
// 13's Server (express, pino-http) with an app that registers nothing; it verifies and acknowledges.
import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { Probot, Server as ProbotServer } from "probot";
import { testPrivateKey } from "../test/fixtures/keys";
import { TEST_APP_ID, TEST_WEBHOOK_SECRET } from "../test/helpers/config";

export async function startProbotBaseline(): Promise<{ url: string; close(): Promise<void> }> {
  const silent = () => pino({ level: "silent" });
  const server = new ProbotServer({
    Probot: Probot.defaults({ appId: TEST_APP_ID, privateKey: testPrivateKey(), secret: TEST_WEBHOOK_SECRET, log: silent() }),
    log: silent(),
  });
  await server.load(() => undefined);
  // What start() does, on a free port: start() reads port 0 as "unset" and takes 3000.
  const http = createServer(server.expressApp);
  await new Promise<void>((resolve, reject) => http.once("error", reject).listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, close: () => closeServer(http) };
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
