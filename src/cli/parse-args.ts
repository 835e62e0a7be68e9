import { type ParseArgsConfig, parseArgs } from 'node:util';
import { OffsiteError } from '../errors.ts';

/**
 * A parseArgs failure (ERR_PARSE_ARGS_*) as a usage error naming the flag and where the flags are
 * listed (`offsite run --help`); null for any other error. Node's own wording suggests "--" for
 * positionals starting with a dash, which is never what a mistyped flag needs.
 */
export function usageErrorFromParse(err: unknown, help: string): OffsiteError | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) return null;
  const message = (err as Error).message;
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  const flag = /(^|\s)(--?[\w-]+)/.exec(quoted)?.[2] ?? quoted;
  let text: string;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') text = `unknown flag ${flag}`;
  else if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') text = `unexpected argument ${quoted}`;
  else if (/argument missing|ambiguous/.test(message)) {
    text = `${flag} needs a value (${flag} VALUE, or ${flag}=VALUE for one starting with "-")`;
  } else if (/does not take an argument/.test(message)) text = `${flag} takes no value`;
  else text = message.split('\n')[0] ?? message;
  return new OffsiteError('USAGE', text, { hint: `${help} lists the flags`, cause: err });
}

/** node:util parseArgs, its errors turned into usage errors that point at `help`. */
export function parseArgsOrUsage<T extends ParseArgsConfig>(
  config: T,
  help: string,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw usageErrorFromParse(err, help) ?? err;
  }
}
