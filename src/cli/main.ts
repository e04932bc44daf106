import { CommanderError } from "commander";
import { config as loadDotenv } from "dotenv";
import { redactTokens } from "../redact-tokens";
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
    // By name, not instanceof: importing config.ts (and zod) here would slow down `--help`.
    // An upstream error's message may quote a token; a terminal or CI log is no place for it.
    const error_ = error as Error;
    io.err(redactTokens(error_.name === "ConfigError" ? error_.message : `octoplex: ${error_.message}`));
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
