// npm run bench
//
// Runs every benchmark in turn (bench:refresh, bench:tokens, bench:coldstart, bench:webhooks,
// bench:scale, bench:fanout), each as `npm run --silent <script>`, shows its output as it comes, and writes
// bench/results.md: the machine (CPU, cores, RAM, Node, Postgres), the date, and each benchmark's
// printed figures (stdout; stderr's progress lines are left out, its problems kept) with its exit
// code and wall time. Exits 1 when any benchmark did.
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Client } from "pg";
import { ADMIN_POSTGRES_URL } from "../test/helpers/postgres-url";

const SCRIPTS = ["bench:refresh", "bench:tokens", "bench:coldstart", "bench:webhooks", "bench:scale", "bench:fanout"];
const ROOT = join(__dirname, "..");

interface Run {
  script: string;
  code: number;
  seconds: number;
  stdout: string;
  problems: string[];
}

function run(script: string): Promise<Run> {
  return new Promise((resolve) => {
    const started = performance.now();
    console.log(`\n### npm run ${script}`);
    const child = spawn("npm", ["run", "--silent", script], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on("close", (code) => {
      const problems = stderr.split(/[\r\n]+/).filter((l) => /^(problem:|… and|Error|error)/.test(l) || (code !== 0 && l.trim() && !/^seeding /.test(l)));
      resolve({ script, code: code ?? 1, seconds: (performance.now() - started) / 1000, stdout, problems });
    });
  });
}

async function postgresVersion(): Promise<string> {
  const client = new Client({ connectionString: ADMIN_POSTGRES_URL });
  try {
    await client.connect();
    return (await client.query("SELECT version()")).rows[0].version as string;
  } catch (error) {
    return `unavailable (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A fixed piece of CPU work (100,000 HMAC-SHA256), timed: the median of 5. This machine's speed
 * drifts (the same work took 405 to 568 ms within an hour), so the report says how fast it was
 * before and after the benchmarks; the absolute figures (ms) move with it, the ratios much less.
 */
function speedProbe(): string {
  const times: number[] = [];
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    let sink = 0;
    for (let i = 0; i < 100_000; i++) sink += createHmac("sha256", "probe").update(`message ${i}`).digest()[0];
    times.push(performance.now() - t0 + (sink < 0 ? 1 : 0));
  }
  times.sort((a, b) => a - b);
  return `${times[2].toFixed(0)} ms (of ${times.map((t) => t.toFixed(0)).join(", ")})`;
}

async function main(): Promise<number> {
  const started = new Date();
  const probeBefore = speedProbe();
  const machine = [
    `- CPU: ${cpus()[0]?.model ?? "unknown"}, ${cpus().length} cores`,
    `- RAM: ${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `- Node: ${process.version} (${process.platform} ${process.arch})`,
    `- Postgres: ${await postgresVersion()} at ${ADMIN_POSTGRES_URL.replace(/\/\/[^@]*@/, "//…@")}`,
    `- Date: ${started.toISOString()}`,
  ];
  const runs: Run[] = [];
  for (const script of SCRIPTS) runs.push(await run(script));
  const probeAfter = speedProbe();

  const md = [
    "# Benchmark results",
    "",
    `Written by \`npm run bench\`; the benchmarks ran one after another on this machine (other work on the machine was not stopped).`,
    "",
    ...machine,
    `- Speed probe (100,000 HMAC-SHA256 in one process, median of 5): ${probeBefore} before the benchmarks, ${probeAfter} after`,
    "",
    "| benchmark | exit | wall time |",
    "|---|---|---|",
    ...runs.map((r) => `| \`npm run ${r.script}\` | ${r.code} | ${r.seconds.toFixed(0)} s |`),
    "",
    ...runs.flatMap((r) => [
      `## npm run ${r.script}`,
      "",
      "```",
      r.stdout.trimEnd(),
      ...(r.problems.length ? ["", "stderr:", ...r.problems] : []),
      "```",
      "",
    ]),
  ].join("\n");
  const file = join(__dirname, "results.md");
  writeFileSync(file, md);
  console.log(`\nwrote ${file}; exit codes: ${runs.map((r) => `${r.script} ${r.code}`).join(", ")}`);
  return runs.some((r) => r.code !== 0) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(1);
  },
);
