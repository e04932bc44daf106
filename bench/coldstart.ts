// npm run bench:coldstart [-- --runs 10]
//
// Lambda cold starts, as a fresh `node` process each: load the handler module (its init: config,
// Probot, the express app, a Postgres pool), then answer one signed installation.created webhook
// against Postgres. Compares the esbuild bundle (dist/lambda/handler.js, `npm run bundle`) with the
// unbundled build (lib/lambda/handler.js, `npm run build`), runs interleaved, one warm-up each.
// Prints the median time to first response (spawn → answer received), where it goes (module load,
// first invocation), peak RSS, the bundle's size and the ratio bundle / unbundled; goal: bundle
// median < 400 ms and ≤ 0.5× unbundled. Exits 1 when a webhook was not answered 200 or not stored.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import type { Knex } from "knex";
import { createKnex } from "../src/db/knex";
import { migrateLatest } from "../src/db/migrate";
import { apiGatewayV2Event, webhookRequest } from "../test/fixtures/lambda-events";
import { installationEvent } from "../test/fixtures/payloads";
import { testEnv } from "../test/helpers/config";
import type { TestDatabase } from "../test/helpers/databases";
import { createBenchDatabase, reportProblems, runBench } from "./harness";
import { formatMs, mb, median } from "./stats";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "10" } } });
const runs = Number(args.runs);

const ROOT = join(__dirname, "..");
const GOAL_MS = 400;
const GOAL_RATIO = 0.5;
const ms = formatMs(0);

interface Target {
  name: string;
  file: string;
  /** How to make it when it is missing. */
  make: string;
  nodeOptions?: string;
}

const BUNDLE: Target = { name: "bundle", file: join(ROOT, "dist/lambda/handler.js"), make: "npm run bundle" };
const UNBUNDLED: Target = { name: "unbundled", file: join(ROOT, "lib/lambda/handler.js"), make: "npm run build" };
// deploy/template.yaml sets NODE_OPTIONS=--enable-source-maps: what that costs at a cold start.
const BUNDLE_SOURCE_MAPS: Target = { ...BUNDLE, name: "bundle --enable-source-maps", nodeOptions: "--enable-source-maps" };
const TARGETS = [BUNDLE, UNBUNDLED, BUNDLE_SOURCE_MAPS];

/** The child: what the Lambda runtime does at a cold start, timed from the process's own start. */
const CHILD = `
const { performance } = require("node:perf_hooks");
const { handler } = require(process.argv[1]);
const loadedMs = performance.now();
handler(JSON.parse(process.env.BENCH_EVENT), { awsRequestId: "bench" }).then((result) => {
  const answeredMs = performance.now();
  process.stdout.write(JSON.stringify({ statusCode: result.statusCode, loadedMs, answeredMs, maxRssKb: process.resourceUsage().maxRSS }) + "\\n");
  process.exit(0);
}, (error) => { console.error(error && error.stack || error); process.exit(1); });
`;

interface Sample {
  /** Parent's clock: spawn until the answer arrived. */
  firstResponseMs: number;
  /** Child's clock (from its process start): the handler module loaded. */
  loadedMs: number;
  /** Child's clock: the first invocation answered, minus loadedMs. */
  invokeMs: number;
  maxRssKb: number;
  statusCode: number;
}

let database: TestDatabase | undefined;
let db: Knex | undefined;
let nextInstallation = 1;

async function coldStart(target: Target, databaseUrl: string): Promise<Sample> {
  const installationId = nextInstallation++;
  const event = apiGatewayV2Event(webhookRequest("installation", installationEvent("created", { id: installationId }), { deliveryId: randomUUID() }));
  const env = {
    PATH: process.env.PATH,
    ...testEnv({ DATABASE_URL: databaseUrl, LOG_LEVEL: "warn", LOG_FORMAT: "json" }),
    ...(target.nodeOptions ? { NODE_OPTIONS: target.nodeOptions } : {}),
    BENCH_EVENT: JSON.stringify(event),
  };
  const started = performance.now();
  // The clock stops when the answer arrives, not when the process has exited (pino flushes then).
  const { line, firstResponseMs } = await new Promise<{ line: string; firstResponseMs: number }>((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", CHILD, target.file], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let answer: { line: string; firstResponseMs: number } | undefined;
    const timer = setTimeout(() => child.kill(), 30_000);
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((l) => l.startsWith('{"statusCode"'));
      if (line && !answer) answer = { line, firstResponseMs: performance.now() - started };
    });
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("close", (code) => {
      clearTimeout(timer);
      if (answer && code === 0) resolve(answer);
      else reject(new Error(`${target.name}: exit ${code}: ${err || out}`));
    });
  });
  const result = JSON.parse(line) as { statusCode: number; loadedMs: number; answeredMs: number; maxRssKb: number };
  return { firstResponseMs, loadedMs: result.loadedMs, invokeMs: result.answeredMs - result.loadedMs, maxRssKb: result.maxRssKb, statusCode: result.statusCode };
}

async function main(): Promise<number> {
  for (const t of TARGETS) if (!existsSync(t.file)) throw new Error(`${t.file} is missing: run \`${t.make}\` first (npm run bench:coldstart does both)`);
  database = await createBenchDatabase("postgres", "set TEST_DATABASE_URL");
  if (database.config.client !== "postgres") throw new Error("expected Postgres");
  const url = database.config.url;
  db = createKnex(database.config);
  await migrateLatest(db);

  const bundleBytes = statSync(BUNDLE.file).size;
  const mapBytes = existsSync(`${BUNDLE.file}.map`) ? statSync(`${BUNDLE.file}.map`).size : 0;
  console.log(
    `cold-start benchmark: ${runs} fresh node ${process.version} processes per variant, each loads the Lambda handler and answers ` +
      `one signed webhook against Postgres; variants interleaved, one warm-up each`,
  );
  console.log(`bundle: dist/lambda/handler.js ${mb(bundleBytes)} (source map ${mb(mapBytes)})`);

  const samples = new Map<Target, Sample[]>(TARGETS.map((t) => [t, []]));
  for (const t of TARGETS) await coldStart(t, url); // warm-up: disk cache, Postgres
  for (let round = 1; round <= runs; round++) {
    for (const t of TARGETS) samples.get(t)!.push(await coldStart(t, url));
  }

  console.log("");
  console.log(`variant                        first response (median  min    max)   module load  1st invoke  peak RSS`);
  for (const t of TARGETS) {
    const s = samples.get(t)!;
    const first = s.map((x) => x.firstResponseMs);
    console.log(
      `  ${t.name.padEnd(28)} ${ms(median(first)).padStart(9)} ${ms(Math.min(...first)).padStart(8)} ${ms(Math.max(...first)).padStart(8)}` +
        `   ${ms(median(s.map((x) => x.loadedMs))).padStart(9)}   ${ms(median(s.map((x) => x.invokeMs))).padStart(9)}  ${mb(median(s.map((x) => x.maxRssKb * 1024))).padStart(8)}`,
    );
  }
  const bundleMedian = median(samples.get(BUNDLE)!.map((x) => x.firstResponseMs));
  const unbundledMedian = median(samples.get(UNBUNDLED)!.map((x) => x.firstResponseMs));
  const ratio = bundleMedian / unbundledMedian;
  console.log("");
  console.log(`ratio bundle / unbundled (median first response): ${ratio.toFixed(2)}×`);
  const met = bundleMedian < GOAL_MS && ratio <= GOAL_RATIO;
  console.log(
    `goal: bundle median < ${GOAL_MS} ms and ≤ ${GOAL_RATIO}× unbundled — ${met ? "met" : "MISSED"} ` +
      `(${ms(bundleMedian)} ${bundleMedian < GOAL_MS ? "<" : "≥"} ${GOAL_MS} ms, ${ratio.toFixed(2)}× ${ratio <= GOAL_RATIO ? "≤" : ">"} ${GOAL_RATIO}×)`,
  );

  const problems: string[] = [];
  for (const [t, s] of samples) {
    const failed = s.filter((x) => x.statusCode !== 200).length;
    if (failed) problems.push(`${t.name}: ${failed} webhook(s) not answered 200`);
  }
  const stored = Number((await db("installations").count({ n: "*" }))[0].n);
  if (stored !== nextInstallation - 1) problems.push(`${stored} installation(s) stored, expected ${nextInstallation - 1}`);
  return reportProblems(problems);
}

runBench(main, async () => {
  await db?.destroy();
  await database?.drop();
});
