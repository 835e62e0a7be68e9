import { describe, expect, it } from 'vitest';
import { parseArgsOrUsage, usageErrorFromParse } from './parse-args.ts';

const options = { date: { type: 'string' }, json: { type: 'boolean' } } as const;

function usage(args: string[], allowPositionals = true) {
  try {
    parseArgsOrUsage({ args, options, allowPositionals }, 'offsite run --help');
  } catch (err) {
    return err as { code: string; message: string; hint: string };
  }
  throw new Error('expected a usage error');
}

describe('parse errors as usage errors', () => {
  it('name the flag and the command help, not Node wording', () => {
    const err = usage(['p.yaml', '--no-such-flag']);
    expect(err.code).toBe('USAGE');
    expect(err.message).toBe('unknown flag --no-such-flag');
    expect(err.hint).toBe('offsite run --help lists the flags');
    expect(usage(['-x']).message).toBe('unknown flag -x');
  });

  it('say which flag lacks a value or takes none', () => {
    expect(usage(['--date']).message).toMatch(/^--date needs a value/);
    expect(usage(['--date', '--json']).message).toMatch(/^--date needs a value/);
    expect(usage(['--json=yes']).message).toBe('--json takes no value');
    expect(usage(['extra'], false).message).toBe('unexpected argument extra');
  });

  it('pass valid arguments through and leave other errors alone', () => {
    const { values, positionals } = parseArgsOrUsage(
      { args: ['p.yaml', '--date', '2026-11-24'], options, allowPositionals: true },
      'offsite run --help',
    );
    expect(values.date).toBe('2026-11-24');
    expect(positionals).toEqual(['p.yaml']);
    expect(usageErrorFromParse(new Error('boom'), 'x')).toBeNull();
  });
});
