import { CommanderError } from "commander";
import { config as loadDotenv } from "dotenv";
import { ConfigError } from "../config";
import { terminalProgress } from "./output";
import { createProgram } from "./program";

/** Entry of the `octoplex` bin: reads .env like `npm start`, maps failures to exit codes. */
export async function main(argv: string[]): Promise<number> {
  loadDotenv({ quiet: true } as never);
  const program = createProgram({
    env: process.env,
    cwd: process.cwd(),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    progress: terminalProgress(process.stderr),
  });
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    process.stderr.write(`${error instanceof ConfigError ? error.message : `octoplex: ${(error as Error).message}`}\n`);
    return 1;
  }
}
