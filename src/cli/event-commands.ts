import { Command, InvalidArgumentError } from "commander";
import { CliIo, formatTable } from "./output";
import type { WithDeps } from "./program";

/** `redeliver` (GitHub → Octoplex) and `events` (Octoplex → the platform). */
export function addEventCommands(program: Command, io: CliIo, withDeps: WithDeps): void {
  program
    .command("redeliver")
    .description("ask GitHub to redeliver failed webhook deliveries Octoplex never processed")
    .option("--since <duration>", "look back this far (e.g. 30m, 6h, 2d) instead of from where the last run stopped", parseDuration)
    .action((opts: { since?: number }) =>
      withDeps("app", async ({ services }) => {
        let report;
        try {
          report = await services.redeliver({ sinceMs: opts.since, onProgress: (n) => io.progress?.(`Scanning deliveries: ${n}`) });
        } finally {
          io.progress?.("");
        }
        for (const r of report.redelivered) io.out(`redelivered  ${r.guid} ${r.event}${r.action ? `.${r.action}` : ""}`);
        io.out(
          `${report.redelivered.length} redelivery request(s); scanned ${report.scanned} deliveries, ${report.failed} failed ` +
            `(${report.alreadyProcessed} processed since, ${report.alreadyRequested} already requested)`,
        );
      }),
    );

  const events = program.command("events").description("events for the platform (the outbox)");
  events
    .command("list")
    .option("--failed", "only events that ran out of retries")
    .option("--json", "print JSON")
    .action((opts: { failed?: boolean; json?: boolean }) =>
      withDeps("database", async ({ db }) => {
        const { listOutboxEvents } = await import("../repositories/outbox");
        const list = await listOutboxEvents(db, opts.failed ? { status: "failed" } : {});
        if (opts.json) return io.out(JSON.stringify(list, null, 2));
        io.out(
          formatTable(
            ["ID", "TYPE", "TEAM", "STATUS", "ATTEMPTS", "CREATED", "LAST ERROR"],
            list.map((e) => [e.id, e.type, e.teamId, e.status, e.attempts, e.createdAt.toISOString(), e.lastError]),
          ),
        );
      }),
    );
  events
    .command("retry")
    .argument("[id]", "the failed event to send again")
    .option("--all-failed", "every failed event")
    .action((id: string | undefined, opts: { allFailed?: boolean }) =>
      withDeps("database", async ({ db, now, services }) => {
        if (id !== undefined && !/^[1-9]\d*$/.test(id)) throw new Error(`id must be a positive integer, got "${id}"`);
        if (id === undefined && !opts.allFailed) throw new Error("give an event id or --all-failed");
        const [{ requeueFailed }, { EVENT_RETRY_FOR_MS }] = await Promise.all([import("../repositories/outbox"), import("../services/events/platform-events")]);
        const count = await requeueFailed(db, opts.allFailed ? "all" : [Number(id)], now(), new Date(now().getTime() + EVENT_RETRY_FOR_MS));
        if (count === 0) throw new Error(id !== undefined ? `event ${id} is not a failed event` : "no failed events");
        io.out(`Queued ${count} event(s) again`);
        if (services.dispatcher) {
          const report = await services.dispatcher.dispatchDue();
          io.out(`Sent now: ${report.delivered} delivered, ${report.retrying} will be retried, ${report.failed} failed`);
        }
      }),
    );
}

/** 90s, 30m, 6h, 2d → milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`expected a duration such as 30m, 6h or 2d, got "${value}"`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "s" | "m" | "h" | "d"];
}
