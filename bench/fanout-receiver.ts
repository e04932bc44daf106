// The platform of bench/fanout.ts, in a process of its own (forked with IPC): a Standard Webhooks
// receiver that verifies every signature with the `standardwebhooks` package and notes each
// request (webhook-id, team, delivery, status, arrival time). Teams in `failing` are answered 500.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** [webhook-id, teamId, GitHub delivery id, status answered, arrival (Date.now())] */
export type Arrival = [string, number, string, number, number];

export type ReceiverCommand = { secret: string } | { failing: number[] } | { take: true };

let verifier: Webhook | undefined;
let failing = new Set<number>();
let arrivals: Arrival[] = [];

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const at = Date.now();
    const raw = Buffer.concat(chunks).toString("utf8");
    let status = 200;
    let teamId = 0;
    let deliveryId = "";
    try {
      const body = verifier!.verify(raw, req.headers as Record<string, string>) as { data: { teamId: number; deliveryId: string } };
      teamId = body.data.teamId;
      deliveryId = body.data.deliveryId;
      if (failing.has(teamId)) status = 500;
    } catch {
      status = 400;
    }
    arrivals.push([String(req.headers["webhook-id"]), teamId, deliveryId, status, at]);
    res.writeHead(status, { "content-type": "application/json" }).end(status === 200 ? '{"ok":true}' : '{"error":"no"}');
  });
});

process.on("message", (command: ReceiverCommand) => {
  if ("secret" in command) {
    verifier = new Webhook(command.secret);
    const ready = () => process.send!({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events` });
    if (server.listening) ready();
    else server.listen(0, "127.0.0.1", ready);
  } else if ("failing" in command) {
    failing = new Set(command.failing);
    process.send!({ ok: true });
  } else {
    process.send!({ arrivals });
    arrivals = [];
  }
});
