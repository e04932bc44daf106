// The load generator of bench/webhooks.ts, run in a process of its own (forked with IPC) so that
// it does not share an event loop with the server under test. It pre-signs its deliveries before
// the clock starts, then either keeps `connections` requests in flight for `durationMs` (closed
// loop: maximum throughput) or sends `rate` deliveries/s on schedule (open loop: latency, measured
// from each request's scheduled start, so a stalled server is not hidden by a stalled sender).
import { createHmac, randomUUID } from "node:crypto";
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { installationEvent, installationRepositoriesEvent, pushEvent, repository } from "../test/fixtures/payloads";

export interface LoadRequest {
  url: string;
  secret: string;
  mode: "max" | "rate";
  durationMs: number;
  /** max: requests in flight. */
  connections: number;
  /** rate: deliveries per second. */
  rate: number;
  /** First installation id: each run uses ids of its own, so a run never replays another's. */
  firstInstallationId: number;
  /**
   * Instead of installation events: `push` deliveries for this installation, its repositories in
   * turn (bench/fanout.ts); each push's `after` is its sequence number, zero-padded.
   */
  push?: { installationId: number; repositories: Array<{ id: number; name: string }> };
  /** Note when each delivery was acknowledged (epoch ms, by X-GitHub-Delivery). */
  recordAcks?: boolean;
}

export interface LoadResult {
  sent: number;
  ok: number;
  /** Status codes other than 2xx, and network errors, with their counts. */
  failures: Record<string, number>;
  elapsedMs: number;
  /** CPU seconds this generator used while sending (its deliveries are built before). */
  cpuSeconds: number;
  latenciesMs: number[];
  /** With recordAcks: delivery id → when its 2xx answer arrived (Date.now()). */
  acks?: Record<string, number>;
}

interface Delivery {
  event: string;
  body: string;
  signature: string;
}

/** Alternates installation.created (with two repositories) and installation_repositories.added. */
function makeDeliveries(count: number, firstId: number, secret: string): Delivery[] {
  const sign = (body: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  const out: Delivery[] = [];
  for (let i = 0; i < count; i++) {
    const id = firstId + Math.floor(i / 2);
    const repoId = id * 10;
    const [event, payload] =
      i % 2 === 0
        ? ["installation", installationEvent("created", { id, repositorySelection: "selected" }, [repository(repoId, `acme/r${repoId}`)])]
        : [
            "installation_repositories",
            installationRepositoriesEvent("added", { id, updatedAt: "2026-11-01T10:05:00Z" }, { added: [repository(repoId + 1, `acme/r${repoId + 1}`)] }),
          ];
    const body = JSON.stringify(payload);
    out.push({ event: event as string, body, signature: sign(body) });
  }
  return out;
}

/** `push` deliveries over the installation's repositories in turn. */
function makePushes(count: number, push: NonNullable<LoadRequest["push"]>, secret: string): Delivery[] {
  const sign = (body: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  return Array.from({ length: count }, (_, i) => {
    const body = JSON.stringify(pushEvent(push.installationId, push.repositories[i % push.repositories.length], String(i).padStart(40, "0")));
    return { event: "push", body, signature: sign(body) };
  });
}

async function run(req: LoadRequest): Promise<LoadResult> {
  const target = new URL("/api/github/webhooks", req.url);
  // FIFO: every kept-alive socket stays in use. With LIFO an idle one can reach the server's 5 s
  // keep-alive timeout and be closed just as it is picked again (ECONNRESET, a client artefact).
  const agent = new Agent({ keepAlive: true, maxSockets: req.mode === "max" ? req.connections : 64, scheduling: "fifo" });
  // Enough for 5,000 deliveries/s over the whole run; reused (with fresh delivery ids) beyond that.
  const count = req.mode === "max" ? Math.ceil((req.durationMs / 1000) * 5000) : Math.ceil((req.durationMs / 1000) * req.rate) + 1;
  const deliveries = req.push ? makePushes(count, req.push, req.secret) : makeDeliveries(count, req.firstInstallationId, req.secret);
  const result: LoadResult = { sent: 0, ok: 0, failures: {}, elapsedMs: 0, cpuSeconds: 0, latenciesMs: [], ...(req.recordAcks ? { acks: {} } : {}) };
  const fail = (why: string) => (result.failures[why] = (result.failures[why] ?? 0) + 1);

  const send = (d: Delivery): Promise<void> =>
    new Promise((resolve) => {
      result.sent++;
      const deliveryId = randomUUID();
      const r = request(
        target,
        {
          method: "POST",
          agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(d.body),
            "user-agent": "GitHub-Hookshot/bench",
            "x-github-event": d.event,
            "x-github-delivery": deliveryId,
            "x-hub-signature-256": d.signature,
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            if (res.statusCode && res.statusCode >= 200 && res.statusCode < 300) {
              result.ok++;
              if (result.acks) result.acks[deliveryId] = Date.now();
            } else fail(`HTTP ${res.statusCode}`);
            resolve();
          });
        },
      );
      r.on("error", (e) => {
        fail(e.message);
        resolve();
      });
      r.end(d.body);
    });

  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  if (req.mode === "max") {
    let next = 0;
    const deadline = started + req.durationMs;
    const loop = async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await send(deliveries[next++ % deliveries.length]);
        result.latenciesMs.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: req.connections }, loop));
  } else {
    const total = Math.round((req.durationMs / 1000) * req.rate);
    const interval = 1000 / req.rate;
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // From `due`, so that a stalled sender does not hide a stalled server; from the send when a
      // timer fired early (by up to a millisecond), or the latency would be negative.
      const start = Math.min(due, performance.now());
      inFlight.push(send(deliveries[i]).then(() => void result.latenciesMs.push(performance.now() - start)));
    }
    await Promise.all(inFlight);
  }
  result.elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuAtStart);
  result.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  agent.destroy();
  return result;
}

process.on("message", (req: LoadRequest) => {
  run(req).then(
    (result) => process.send!({ result }),
    (error: Error) => process.send!({ error: error.stack ?? error.message }),
  );
});
