#!/usr/bin/env node
"use strict";
// node scripts/peak-rss.js [--interval 100] [--top 15] [--jest-results FILE] -- <command> [args...]
//
// Runs <command> and samples, from /proc every --interval ms, the summed RSS of its whole process
// tree (e.g. npm → jest → jest workers → the processes tests spawn: Octoplex children, worker
// pools, Chromium). On exit prints the wall time, the peak, the processes that made it, and the
// largest sum seen in each 20 s of the run. With --jest-results (a file jest wrote with
// `--json --outputFile FILE`) it also names the test files that were running at the peak.
// Figures only: nothing is asserted. Linux only (/proc).
//
//   npm run bench:suite-memory                          # npm test, with the test files at the peak
//   node scripts/peak-rss.js -- npx jest test/faults    # any subset
const { spawn } = require("node:child_process");
const { readFileSync, readdirSync, existsSync } = require("node:fs");
const { basename } = require("node:path");
const { parseArgs } = require("node:util");

const split = process.argv.indexOf("--");
if (split < 0 || split === process.argv.length - 1) {
  console.error("usage: node scripts/peak-rss.js [--interval ms] [--top n] [--jest-results file] -- <command> [args...]");
  process.exit(2);
}
const { values: args } = parseArgs({
  args: process.argv.slice(2, split),
  options: { interval: { type: "string", default: "100" }, top: { type: "string", default: "15" }, "jest-results": { type: "string" } },
});
const [command, ...commandArgs] = process.argv.slice(split + 1);
const PAGE = 4096; // statm counts pages; 4 kB on x86-64 and arm64 Linux
const MB = 1024 * 1024;
const mb = (bytes) => `${(bytes / MB).toFixed(0)} MB`;

function read(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined; // the process ended between the listing and the read
  }
}

/** What a process is, in a few words: the script a node process runs, Chromium's process type. */
function label(pid) {
  let argv = (read(`/proc/${pid}/cmdline`) ?? "").split("\0").filter(Boolean);
  // Chromium and npm rewrite their process title: one string, arguments split by spaces.
  if (argv.length === 1) argv = argv[0].split(" ");
  if (argv.length === 0) return (read(`/proc/${pid}/comm`) ?? "?").trim();
  const exe = basename(argv[0]);
  // The first script among the arguments, not a preloaded one (-r ./scripts/register-ts.js).
  const script = argv.find((a, i) => i > 0 && /\.(ts|js)$/.test(a) && !["-r", "--require"].includes(argv[i - 1]));
  if (/chrom/.test(exe)) return `chromium ${(argv.find((a) => a.startsWith("--type=")) ?? "browser").replace("--type=", "")}`;
  if (script?.includes("jest-worker")) return "jest worker";
  if (/\bjest(\.js)?$/.test(argv[1] ?? "")) return "jest";
  if (exe === "node" || exe.startsWith("node")) return `node ${script ? script.replace(/^.*?\b(test|bench|scripts|node_modules)\//, "$1/") : argv.slice(1, 3).join(" ")}`;
  return exe;
}

/** Every process under `root` (itself included) with its RSS in bytes. */
function tree(root) {
  const children = new Map();
  const rss = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    const statm = read(`/proc/${entry}/statm`);
    if (!stat || !statm) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const pid = Number(entry);
    (children.get(ppid) ?? children.set(ppid, []).get(ppid)).push(pid);
    rss.set(pid, Number(statm.split(" ")[1]) * PAGE);
  }
  const found = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.pop();
    if (rss.has(pid)) found.push({ pid, rss: rss.get(pid) });
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

const began = Date.now();
const child = spawn(command, commandArgs, { stdio: "inherit" });
let peak = { total: 0, at: began, processes: [] };
const windows = new Map(); // 20 s window index → largest sum in it
let samples = 0;

const sampler = setInterval(() => {
  const processes = tree(child.pid);
  const total = processes.reduce((sum, p) => sum + p.rss, 0);
  samples++;
  const window = Math.floor((Date.now() - began) / 20_000);
  windows.set(window, Math.max(windows.get(window) ?? 0, total));
  if (total > peak.total) peak = { total, at: Date.now(), processes: processes.map((p) => ({ ...p, label: label(p.pid) })) };
}, Number(args.interval));

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));

child.on("exit", (code, signal) => {
  clearInterval(sampler);
  const wall = (Date.now() - began) / 1000;
  const out = [];
  out.push("");
  out.push(`peak-rss: ${[command, ...commandArgs].join(" ")}`);
  out.push(`  exit ${signal ?? code}, wall ${wall.toFixed(0)} s, ${samples} samples every ${args.interval} ms`);
  out.push(`  peak RSS of the process tree: ${mb(peak.total)} at ${((peak.at - began) / 1000).toFixed(1)} s, ${peak.processes.length} processes:`);
  const groups = new Map();
  for (const p of peak.processes) {
    const g = groups.get(p.label) ?? { count: 0, rss: 0, max: 0 };
    groups.set(p.label, { count: g.count + 1, rss: g.rss + p.rss, max: Math.max(g.max, p.rss) });
  }
  const sorted = [...groups.entries()].sort((a, b) => b[1].rss - a[1].rss);
  for (const [name, g] of sorted.slice(0, Number(args.top))) {
    out.push(`    ${mb(g.rss).padStart(8)}  ${String(g.count).padStart(2)} × ${name}${g.count > 1 ? ` (largest ${mb(g.max)})` : ""}`);
  }
  if (sorted.length > Number(args.top)) out.push(`    … ${sorted.length - Number(args.top)} more kinds`);
  const resultsFile = args["jest-results"];
  if (resultsFile && existsSync(resultsFile)) {
    const results = JSON.parse(readFileSync(resultsFile, "utf8"));
    const running = results.testResults.filter((r) => r.startTime <= peak.at && peak.at <= r.endTime);
    out.push(`  test files running at the peak: ${running.map((r) => r.name.replace(`${process.cwd()}/`, "")).join(", ") || "none (between files)"}`);
  }
  out.push(`  largest sum per 20 s: ${[...windows.entries()].map(([w, total]) => `${w * 20}s ${(total / MB).toFixed(0)}`).join(" | ")}`);
  console.error(out.join("\n"));
  process.exit(code ?? 1);
});
