// The app's webhook deliveries on the fake GitHub (GHES layout, /api/v3): GitHub sending webhooks
// to Octoplex, the log of attempts it keeps, and redelivery on request. Added to a running fake with
//
//   const hooks = createHookDeliveries({ url: `${octoplex}/api/github/webhooks`, secret: TEST_WEBHOOK_SECRET });
//   github.addRoutes(hooks.routes);
//   await hooks.deliver("installation", payload);                 // sent now, attempt recorded with the answer
//   await hooks.deliver("installation", payload, { down: true });  // Octoplex was unreachable: recorded as failed
//
//   GET  /api/v3/app/hook/deliveries?per_page&cursor       newest first, cursor pagination (Link rel="next"), app JWT only
//   POST /api/v3/app/hook/deliveries/:id/attempts          202; sends that delivery's payload again (same guid,
//                                                          X-GitHub-Delivery) and records the new attempt, redelivery: true
import { createHmac, randomUUID } from "node:crypto";
import { githubError } from "../fixtures/github-answers";
import { bearer, isJwt, json, notFound, Route } from "./fake-http";

export interface HookDeliveryJson {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
  throttled_at: string | null;
}

export interface HookTarget {
  /** Octoplex's webhook URL. */
  url: string;
  /** The app's webhook secret. */
  secret: string;
}

export interface FakeHookDeliveries {
  routes: Route[];
  /** Where deliveries and redeliveries go; change it at any time (undefined: nowhere, every attempt fails). */
  target: HookTarget | undefined;
  /**
   * GitHub delivering `event`: POSTed to the target, signed, and recorded with the answer's status
   * (0, "failed to connect", when unreachable). `down`: recorded as failed without sending.
   */
  deliver(event: string, payload: Record<string, unknown>, options?: { guid?: string; down?: boolean; at?: Date }): Promise<HookDeliveryJson>;
  /** Every attempt, newest first, as the API lists them. */
  attempts(): HookDeliveryJson[];
  /** The delivery ids POSTed to …/attempts, in order. */
  readonly redeliveryRequests: readonly number[];
  reset(): void;
}

const PATH = /^\/api\/v3\/app\/hook\/deliveries$/;
const ATTEMPTS = /^\/api\/v3\/app\/hook\/deliveries\/(\d+)\/attempts$/;

export function createHookDeliveries(target?: HookTarget): FakeHookDeliveries {
  // Oldest first; ids grow with time, as GitHub's do.
  const log: Array<HookDeliveryJson & { payload: Record<string, unknown> }> = [];
  const redeliveryRequests: number[] = [];
  let nextId = 1000;

  async function send(event: string, guid: string, payload: Record<string, unknown>, down: boolean): Promise<{ status_code: number; status: string; duration: number }> {
    const started = Date.now();
    if (down || !hooks.target) return { status_code: 0, status: "failed to connect to host", duration: 0 };
    const body = JSON.stringify(payload);
    try {
      const res = await fetch(hooks.target.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/fake",
          "x-github-event": event,
          "x-github-delivery": guid,
          "x-github-hook-installation-target-type": "integration",
          "x-hub-signature-256": `sha256=${createHmac("sha256", hooks.target.secret).update(body).digest("hex")}`,
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      return { status_code: res.status, status: res.ok ? "OK" : `Invalid HTTP Response: ${res.status}`, duration: (Date.now() - started) / 1000 };
    } catch {
      return { status_code: 0, status: "failed to connect to host", duration: (Date.now() - started) / 1000 };
    }
  }

  async function attempt(event: string, guid: string, payload: Record<string, unknown>, options: { down?: boolean; at?: Date; redelivery: boolean }) {
    const outcome = await send(event, guid, payload, options.down ?? false);
    const installation = payload.installation as { id?: number } | undefined;
    const entry = {
      id: nextId++,
      guid,
      delivered_at: (options.at ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z"),
      redelivery: options.redelivery,
      ...outcome,
      event,
      action: typeof payload.action === "string" ? payload.action : null,
      installation_id: installation?.id ?? null,
      repository_id: null,
      throttled_at: null,
      payload,
    };
    log.push(entry);
    return entry;
  }

  const listed = () =>
    [...log]
      .sort((a, b) => Date.parse(b.delivered_at) - Date.parse(a.delivered_at) || b.id - a.id)
      .map(({ payload: _p, ...rest }) => rest);

  const routes: Route[] = [
    [
      "GET",
      PATH,
      (ctx) => {
        if (!isJwt(bearer(ctx.req))) return json(401, githubError("A JSON web token could not be decoded"));
        const perPage = Math.min(Math.max(Number(ctx.url.searchParams.get("per_page")) || 30, 1), 100);
        const all = listed();
        // The cursor names the first delivery of the page (GitHub's is opaque too).
        const cursor = ctx.url.searchParams.get("cursor");
        const start = cursor === null ? 0 : all.findIndex((d) => `v1_${d.id}` === cursor);
        if (start < 0) return json(422, githubError("Invalid cursor"));
        const page = all.slice(start, start + perPage);
        const next = all[start + perPage];
        const headers: Record<string, string> = {};
        if (next) {
          const url = new URL(ctx.url.pathname, ctx.url.origin);
          url.searchParams.set("per_page", String(perPage));
          url.searchParams.set("cursor", `v1_${next.id}`);
          headers.link = `<${url}>; rel="next"`;
        }
        return json(200, page, headers);
      },
    ],
    [
      "POST",
      ATTEMPTS,
      async (ctx) => {
        if (!isJwt(bearer(ctx.req))) return json(401, githubError("A JSON web token could not be decoded"));
        const id = Number(ctx.params[0]);
        redeliveryRequests.push(id);
        const original = log.find((d) => d.id === id);
        if (!original) return notFound();
        await attempt(original.event, original.guid, original.payload, { redelivery: true });
        return json(202, {});
      },
    ],
  ];

  const hooks: FakeHookDeliveries = {
    routes,
    target,
    deliver: (event, payload, options = {}) =>
      attempt(event, options.guid ?? randomUUID(), payload, { down: options.down, at: options.at, redelivery: false }).then(({ payload: _p, ...rest }) => rest),
    attempts: listed,
    redeliveryRequests,
    reset() {
      log.splice(0);
      redeliveryRequests.splice(0);
    },
  };
  return hooks;
}
