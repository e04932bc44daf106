/**
 * The parent's side of test/fakes/octoplex-child.ts: Octoplex (startOctoplex, as `npm start`)
 * running in a process of its own, for the fault tests that SIGKILL it or check that it never died.
 *
 *   const octoplex = await startOctoplexProcess(testEnv({ DATABASE_URL }), { cwd });
 *   await postWebhook(octoplex.url, "installation", payload);
 *   await octoplex.kill("SIGKILL");      // resolves once it is gone
 *   await octoplex.stop();               // or: stdin closed, it stops itself; SIGKILL after 5 s
 */
import { ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import type { OctoplexChildConfig } from "../fakes/octoplex-child";
import { tsChildArgs } from "./ts-child";

const ROOT = resolve(__dirname, "../..");
const CHILD = resolve(ROOT, "test/fakes/octoplex-child.ts");

export interface OctoplexProcess {
  pid: number;
  url: string;
  /** Still running: neither exited nor killed. */
  alive(): boolean;
  /** How it ended, once it has: an exit code or a signal. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last few kB of its stderr, for failure messages. */
  stderr(): string;
  /** Sends `signal` and waits until the process is gone. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Closes its stdin (it stops its server and database) and waits; SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** Starts Octoplex in a child process; `env` is what its startOctoplex parses (the log capture comes from the inherited environment). */
export async function startOctoplexProcess(env: NodeJS.ProcessEnv, options: { cwd: string; port?: number }): Promise<OctoplexProcess> {
  const config: OctoplexChildConfig = { env, cwd: options.cwd, port: options.port };
  const child: ChildProcess = spawn(process.execPath, tsChildArgs(CHILD, JSON.stringify(config)), {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-8000);
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once("exit", (code, signal) => done({ code, signal })),
  );
  const alive = () => child.exitCode === null && child.signalCode === null;
  const kill = async (signal: NodeJS.Signals) => {
    if (!alive()) return;
    child.kill(signal);
    await exit;
  };

  const ready = await new Promise<{ pid: number; url: string }>((resolveReady, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`Octoplex did not start within 30 s:\n${stderr}`)), 30_000);
    lines.on("line", (line) => {
      let message: { type?: string; pid?: number; url?: string };
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        return; // not ours
      }
      if (message.type !== "ready") return;
      clearTimeout(timer);
      resolveReady({ pid: message.pid!, url: message.url! });
    });
    void exit.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`Octoplex exited (${signal ?? code}) before it was ready:\n${stderr}`));
    });
  }).catch(async (error: Error) => {
    await kill("SIGKILL");
    throw error;
  });

  return {
    ...ready,
    alive,
    exit,
    stderr: () => stderr,
    kill,
    async stop() {
      if (!alive()) return;
      child.stdin!.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exit;
      clearTimeout(timer);
    },
  };
}
