import type { ErrorCode } from '../errors.ts';
import type { Log } from '../pipeline/run-context.ts';
import type { HelpSpec } from './help-text.ts';

/** What a subcommand gets: its own arguments, the logger (stderr) and the interrupt signal. */
export interface CommandContext {
  args: string[];
  log: Log;
  signal: AbortSignal;
}

/**
 * How a command ended without throwing: 'ok', or failed with the code of a failure it has
 * already reported (printed) itself. Only src/cli/main.ts turns it into an exit code.
 */
export type Outcome = 'ok' | { failed: ErrorCode };

/** The outcome of a command that printed its own account of what failed. */
export function failedWith(code: ErrorCode): Outcome {
  return { failed: code };
}

/** A subcommand of the CLI: src/cli/commands/<name>.ts exports one as `command`. */
export interface Command {
  /** What it does, in a few words (a line of `offsite --help`, beside help.usage). */
  summary: string;
  /** `offsite <command> --help`: usage, flags (one line each), an example, the exit codes it returns. */
  help: HelpSpec;
  /** Its outcome; throws OffsiteError for anything it did not report itself (usage, config, …). */
  run(ctx: CommandContext): Promise<Outcome>;
}
