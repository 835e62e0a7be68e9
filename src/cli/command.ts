import type { Log } from '../pipeline/run-context.ts';

/** What a subcommand gets: its own arguments, the logger (stderr) and the interrupt signal. */
export interface CommandContext {
  args: string[];
  log: Log;
  signal: AbortSignal;
}

/** A subcommand of the CLI: src/cli/commands/<name>.ts exports one as `command`. */
export interface Command {
  /** The lines of --help that describe it. */
  usage: string;
  /** Returns the exit code (README "Exit codes"); throws OffsiteError for usage/config problems. */
  run(ctx: CommandContext): Promise<number>;
}
