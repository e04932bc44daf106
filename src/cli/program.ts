import { Command, InvalidArgumentError } from "commander";
import type { ConfigScope } from "../config";
import type { Deps, DepsOverrides } from "../deps";
import { hasControlCharacters } from "../control-characters";
import type { ReconcileReport } from "../services/installations/reconcile";
import { addEventCommands } from "./event-commands";
import { CliIo, formatTable } from "./output";

// InvalidArgumentError makes commander report a usage error (and exit 1) instead of rethrowing.
const toInt = (name: string) => (value: string) => {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}"`);
  return Number(value);
};

// An API key's name is shown in tables and audit answers: one printable line. Checked without zod,
// which `--help` must not load.
function toApiKeyName(value: string): string {
  const name = value.trim();
  if (name.length === 0) throw new InvalidArgumentError("--name must not be empty");
  if (name.length > 100) throw new InvalidArgumentError("--name must be at most 100 characters");
  if (hasControlCharacters(name)) throw new InvalidArgumentError("--name must not contain control characters");
  return name;
}

const collectInts = (name: string) => (value: string, previous: number[]) => [...previous, toInt(name)(value)];

/** The `octoplex` command. Each action opens the database, works, and closes it again. */
export function createProgram(io: CliIo, overrides: DepsOverrides = {}): Command {
  const program = new Command("octoplex")
    .description("Octoplex: one GitHub App for many teams")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  // Commands other than `migrate` bring the schema up to date first, as the server does at start.
  // What a command needs is loaded when it runs: `--help` never loads Probot, Octokit or knex.
  async function withDeps<T>(scope: ConfigScope, work: (deps: Deps) => Promise<T>, autoMigrate = true): Promise<T> {
    const { parseConfig } = await import("../config");
    const config = parseConfig(io.env, scope, io.cwd);
    const [{ createDeps }, { migrateLatest }, { default: pino }] = await Promise.all([import("../deps"), import("../db/migrate"), import("pino")]);
    // The CLI talks through io; library logs would only interleave with its output.
    // Only the "app" commands (reconcile, redeliver) act on GitHub; the others leave out the app's
    // identity and OAuth client, so Probot and Octokit are never loaded for them.
    const needed = scope === "app" ? config : { ...config, appId: undefined, privateKey: undefined, githubClientId: undefined };
    const deps = createDeps(needed, { log: pino({ level: "silent" }), ...overrides });
    try {
      if (autoMigrate) await migrateLatest(deps.db);
      return await work(deps);
    } finally {
      await deps.close();
    }
  }

  program
    .command("migrate")
    .description("apply pending database migrations")
    .action(() =>
      withDeps(
        "database",
        async ({ db }) => {
          const { migrateLatest } = await import("../db/migrate");
          const { applied } = await migrateLatest(db);
          io.out(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(", ")}` : "Already up to date: no migration to apply");
        },
        false,
      ),
    );

  program
    .command("installations")
    .description("installations Octoplex knows")
    .command("list")
    .option("--json", "print JSON")
    .action((opts: { json?: boolean }) =>
      withDeps("database", async ({ db }) => {
        const { listInstallations } = await import("../repositories/installations");
        const installations = await listInstallations(db);
        if (opts.json) return io.out(JSON.stringify(installations, null, 2));
        io.out(
          formatTable(
            ["ID", "ACCOUNT", "TYPE", "REPOSITORIES", "SUSPENDED"],
            installations.map((i) => [i.id, i.account.login, i.account.type, i.repositorySelection, i.suspendedAt?.toISOString() ?? null]),
          ),
        );
      }),
    );

  program
    .command("teams")
    .description("teams")
    .command("list")
    .option("--json", "print JSON")
    .action((opts: { json?: boolean }) =>
      withDeps("database", async ({ db }) => {
        const { listTeams } = await import("../repositories/teams");
        const teams = await listTeams(db);
        if (opts.json) return io.out(JSON.stringify(teams, null, 2));
        io.out(formatTable(["ID", "NAME", "CREATED"], teams.map((t) => [t.id, t.name, t.createdAt.toISOString()])));
      }),
    );

  program
    .command("links")
    .description("team ↔ installation links")
    .command("list")
    .option("--team <id>", "only this team's links", toInt("--team"))
    .option("--json", "print JSON")
    .action((opts: { team?: number; json?: boolean }) =>
      withDeps("database", async ({ db }) => {
        const { listLinks } = await import("../repositories/links");
        const links = await listLinks(db, { teamId: opts.team });
        if (opts.json) return io.out(JSON.stringify(links, null, 2));
        io.out(
          formatTable(
            ["TEAM", "INSTALLATION", "LINKED BY", "LINKED AT"],
            links.map((l) => [l.teamId, l.installationId, l.linkedBy, l.linkedAt.toISOString()]),
          ),
        );
      }),
    );

  program
    .command("reconcile")
    .description("make the database agree with GitHub's list of the app's installations and the repositories each reaches")
    .action(() =>
      withDeps("app", async ({ services }) => {
        const report = await withProgress(io, (progress) =>
          services.reconcile((p) => progress(p.phase === "listing" ? `Listing installations: ${p.fetched}` : `Reconciling: ${p.done}/${p.total}`)),
        );
        printReport(io, report);
        if (report.repositoryFailures.length > 0) {
          throw new Error(`the repositories of ${report.repositoryFailures.length} installation(s) could not be listed; run it again`);
        }
      }),
    );

  program
    .command("purge-expired")
    .description("delete expired sign-in states, sessions, rate-limit windows and platform events delivered longer ago than EVENT_RETENTION, with the audit rows of routed GitHub events as old (the server does it every 10 minutes)")
    .action(() =>
      withDeps("database", async ({ services }) => {
        const purged = await services.housekeeping.purgeExpired();
        io.out(`Deleted ${purged.oauthStates} sign-in state(s), ${purged.sessions} session(s) and ${purged.rateLimits} rate-limit window(s) that had expired`);
        io.out(`Deleted ${purged.events} delivered event(s) older than EVENT_RETENTION and ${purged.githubPayloads} GitHub payload(s) no event uses`);
        io.out(`Deleted ${purged.githubAudit} audit row(s) of routed GitHub events older than EVENT_RETENTION`);
      }),
    );

  const apiKey = program.command("api-key").description("API keys for platform servers");
  apiKey
    .command("create")
    .requiredOption("--name <name>", "what the key is for, e.g. the platform's name", toApiKeyName)
    .option("--team <id>", "limit the key to this team (repeat for more); without it the key acts on every team", collectInts("--team"), [])
    .action((opts: { name: string; team: number[] }) =>
      withDeps("database", async ({ services }) => {
        const { key, apiKey: created } = await services.apiKeys.create(opts.name, { teamIds: opts.team });
        const reach = created.teamIds ? `, limited to team(s) ${created.teamIds.join(", ")}` : "";
        io.out(`Created API key ${created.id} (${created.name})${reach}. It is shown only this once:`);
        io.out(key);
      }),
    );
  apiKey
    .command("revoke")
    .argument("<id>", "the key's id (see `api-key list`)", toInt("id"))
    .action((id: number) =>
      withDeps("database", async ({ services }) => {
        if (!(await services.apiKeys.revoke(id))) throw new Error(`no active API key with id ${id}`);
        io.out(`Revoked API key ${id}`);
      }),
    );
  apiKey
    .command("list")
    .option("--json", "print JSON")
    .action((opts: { json?: boolean }) =>
      withDeps("database", async ({ services }) => {
        const keys = await services.apiKeys.list();
        if (opts.json) return io.out(JSON.stringify(keys, null, 2));
        io.out(
          formatTable(
            ["ID", "NAME", "PREFIX", "TEAMS", "CREATED", "LAST USED", "REVOKED"],
            keys.map((k) => [
              k.id,
              k.name,
              `${k.prefix}…`,
              k.teamIds ? k.teamIds.join(",") || "none" : "all",
              k.createdAt.toISOString(),
              k.lastUsedAt?.toISOString() ?? null,
              k.revokedAt?.toISOString() ?? null,
            ]),
          ),
        );
      }),
    );

  program
    .command("rotate-keys")
    .description("re-encrypt every stored token with the first key of TOKEN_ENCRYPTION_KEYS")
    .action(() =>
      withDeps("encryption", async ({ services }) => {
        const rotate = services.keyRotation!;
        const report = await withProgress(io, (progress) =>
          rotate((done, total) => progress(`Re-encrypting: ${progressBar(done, total)} ${done}/${total}`)),
        );
        io.out(
          `Re-encrypted ${report.rotated} token row(s) with key ${report.keyId}; ${report.alreadyCurrent} already used it` +
            (report.skipped ? `; ${report.skipped} changed meanwhile (run again to finish them)` : ""),
        );
      }),
    );

  addEventCommands(program, io, withDeps);
  return program;
}

export type WithDeps = <T>(scope: ConfigScope, work: (deps: Deps) => Promise<T>, autoMigrate?: boolean) => Promise<T>;

/** Clears the progress line afterwards, on failure too, so an error message starts on a clean line. */
async function withProgress<T>(io: CliIo, work: (progress: (line: string) => void) => Promise<T>): Promise<T> {
  try {
    return await work((line) => io.progress?.(line));
  } finally {
    io.progress?.("");
  }
}

function progressBar(done: number, total: number, width = 24): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

function printReport(io: CliIo, report: ReconcileReport): void {
  for (const a of report.added) io.out(`added      ${a.id} ${a.login}`);
  for (const u of report.updated) io.out(`updated    ${u.id} ${u.login}: ${u.changes.join(", ")}`);
  for (const r of report.removed) {
    io.out(`removed    ${r.id} ${r.login}${r.teamIds.length ? ` (unlinked from teams ${r.teamIds.join(", ")})` : ""}`);
  }
  for (const id of report.skipped) io.out(`skipped    ${id} (deleted by an earlier webhook)`);
  for (const r of report.repositories) {
    const parts = [
      ...(r.added.length ? [`added ${r.added.join(", ")}`] : []),
      ...(r.removed.length ? [`removed ${r.removed.join(", ")}`] : []),
      ...(r.updated.length ? [`updated ${r.updated.map((u) => `${u.fullName} (${u.changes.join(", ")})`).join(", ")}`] : []),
    ];
    io.out(`repos      ${r.installationId} ${r.login}: ${parts.join("; ")}`);
  }
  for (const f of report.repositoryFailures) io.err(`octoplex: listing the repositories of installation ${f.id} (${f.login}) failed, its list is left as it was: ${f.message}`);
  const changed = report.added.length + report.updated.length + report.removed.length;
  const count = (key: "added" | "removed" | "updated") => report.repositories.reduce((n, r) => n + r[key].length, 0);
  const repositoriesChanged = count("added") + count("removed") + count("updated");
  const repositories = `repositories: ${count("added")} added, ${count("updated")} updated, ${count("removed")} removed`;
  io.out(
    changed === 0 && repositoriesChanged === 0
      ? `Nothing to change: ${report.unchanged} installation(s) already match GitHub`
      : `${report.added.length} added, ${report.updated.length} updated, ${report.removed.length} removed, ${report.unchanged} unchanged` +
          (repositoriesChanged > 0 ? `; ${repositories}` : ""),
  );
}
