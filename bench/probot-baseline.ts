// The baseline the webhook benchmarks measure Octoplex against: what `probot run` serves, Probot
// 13's Server (express, pino-http) with an app that registers nothing; it verifies and acknowledges.
import type { Server } from "node:http";
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
    port: 0,
    host: "127.0.0.1",
  });
  await server.load(() => undefined);
  const http = await server.start();
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, close: () => closeServer(http) };
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
