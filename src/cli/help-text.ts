/** What `offsite <command> --help` shows, laid out by {@link formatHelp}. */
export interface HelpSpec {
  /** The usage line, e.g. `offsite run <pipeline> [--date YYYY-MM-DD]`. */
  usage: string;
  /** What the command does, in a few lines. */
  about: string;
  /** Arguments and flags, each with one line. */
  flags: [string, string][];
  /** Example invocations (and what they do, as a trailing comment). */
  examples: string[];
  /** The exit codes this command can return, with what each means here. */
  exits: [number, string][];
}

const PIPELINE_ARG: [string, string] = [
  '<pipeline>',
  'a pipeline file, or a name meaning pipelines/<name>.yaml',
];
const HELP_FLAG: [string, string] = ['-h, --help', 'show this help'];

const LINE = 100;

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...out, line];
}

/** Two columns, the right one wrapped and indented under itself. */
export function columns(rows: [string, string][], indent = '  '): string {
  const width = Math.max(...rows.map(([left]) => left.length));
  const pad = ' '.repeat(indent.length + width + 2);
  return rows
    .map(([left, right]) => {
      const [first, ...rest] = wrap(right, Math.max(30, LINE - pad.length));
      return [`${indent}${left.padEnd(width)}  ${first}`, ...rest.map((l) => `${pad}${l}`)].join('\n');
    })
    .join('\n');
}

/** Lays out a command's help: usage, description, flags, examples, exit codes. */
export function formatHelp(spec: HelpSpec): string {
  const exits = spec.exits.map(([code, meaning]): [string, string] => [String(code), meaning]);
  return `Usage: ${spec.usage}

${spec.about}

Arguments and flags:
${columns([PIPELINE_ARG, ...spec.flags, HELP_FLAG], '  ')}

Example${spec.examples.length > 1 ? 's' : ''}:
${spec.examples.map((e) => `  ${e}`).join('\n')}

Exit codes:
${columns(exits, '  ')}
`;
}
