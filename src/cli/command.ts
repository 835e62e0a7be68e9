import type { Log } from '../pipeline/run-context.ts';
import type { HelpSpec } from './help-text.ts';

/** What a subcommand gets: its own arguments, the logger (stderr) and the interrupt signal. */
export interface CommandContext {
  args: string[];
  log: Log;
  signal: AbortSignal;
}

/** A subcommand of the CLI: src/cli/commands/<name>.ts exports one as `command`. */
export interface Command {
  /** What it does, in a few words (a line of `offsite --help`, beside help.usage). */
  summary: string;
  /** `offsite <command> --help`: usage, flags (one line each), an example, the exit codes it returns. */
  help: HelpSpec;
  /** Returns the exit code (README "Exit codes"); throws OffsiteError for usage/config problems. */
  run(ctx: CommandContext): Promise<number>;
}
