import { CommanderError } from "commander";
import { config as loadDotenv } from "dotenv";
import { ConfigError } from "../config";
import type { DepsOverrides } from "../deps";
import { CliIo, printableIo, terminalProgress } from "./output";
import { createProgram } from "./program";

/** Runs one `octoplex` command and maps failures to an exit code and a message on `io.err`. */
export async function runCli(
  argv: string[],
  io: CliIo,
  overrides: DepsOverrides = {},
  from: "node" | "user" = "node",
): Promise<{ exitCode: number; error?: unknown }> {
  io = printableIo(io);
  try {
    await createProgram(io, overrides).parseAsync(argv, { from });
    return { exitCode: 0 };
  } catch (error) {
    // Commander has already printed its own usage errors.
    if (error instanceof CommanderError) return { exitCode: error.exitCode, error };
    io.err(error instanceof ConfigError ? error.message : `octoplex: ${(error as Error).message}`);
    return { exitCode: 1, error };
  }
}

/** Entry of the `octoplex` bin: reads .env like `npm start`. */
export async function main(argv: string[]): Promise<number> {
  loadDotenv({ quiet: true } as never);
  const { exitCode } = await runCli(argv, {
    env: process.env,
    cwd: process.cwd(),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    progress: terminalProgress(process.stderr),
  });
  return exitCode;
}
