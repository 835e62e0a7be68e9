// npm run report-docs: writes docs/run-report.md, the RunReport's fields, from its zod schema
// (src/report/run-report.ts): every field with its JSON type and whether it is always present,
// and a line on each top-level field. test/report/report-docs.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { RUN_REPORT_FIELDS, runReportSchema } from '../src/report/run-report.ts';

type Json = Record<string, unknown>;

// "or", not "|": a pipe would end the Markdown table cell.
function typeOf(s: Json): string {
  if (Array.isArray(s.anyOf)) return (s.anyOf as Json[]).map(typeOf).join(' or ');
  if (Array.isArray(s.type)) return (s.type as string[]).join(' or ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(' or ');
  if (s.type === 'array') return `${typeOf((s.items as Json) ?? {})}[]`;
  if (s.type === 'integer') return 'integer';
  return String(s.type ?? 'any');
}

function rows(s: Json, path: string, required: boolean, out: string[]): void {
  const nullable = Array.isArray(s.anyOf) && (s.anyOf as Json[]).some((x) => x.type === 'null');
  const object = (Array.isArray(s.anyOf) ? (s.anyOf as Json[]).find((x) => x.type === 'object') : s) as
    | Json
    | undefined;
  const items = s.type === 'array' ? (s.items as Json) : undefined;
  const top =
    path.includes('.') || path.includes('[')
      ? ''
      : ((RUN_REPORT_FIELDS as Record<string, string>)[path] ?? '');
  const type =
    object?.type === 'object'
      ? `object${nullable ? ' or null' : ''}`
      : items?.type === 'object'
        ? 'object[]'
        : typeOf(s);
  if (path) out.push(`| \`${path}\` | ${type} | ${required ? 'yes' : 'no'} | ${top} |`);
  const shape = object?.type === 'object' ? object : items?.type === 'object' ? items : undefined;
  if (!shape?.properties) return;
  const req = new Set((shape.required as string[]) ?? []);
  const prefix = items?.type === 'object' ? `${path}[]` : path;
  for (const [key, child] of Object.entries(shape.properties as Record<string, Json>)) {
    rows(child, prefix ? `${prefix}.${key}` : key, req.has(key), out);
  }
}

/** The document, from the schema. */
export function renderReportDocs(): string {
  const schema = z.toJSONSchema(runReportSchema, { io: 'output', unrepresentable: 'any' }) as Json;
  const out = [
    '# The RunReport (schemaVersion 1)',
    '',
    "Every `offsite run` writes one as JSON (`reportDir/<pipeline>/<run-id>.json`, the store's",
    '`<prefix>/<pipeline>/reports/<run-id>.json`, and stdout with `--json`). Scripts may rely on',
    'these fields: within a schema version they are only ever added, never renamed. Generated from',
    'the zod schema in `src/report/run-report.ts` by `npm run report-docs`.',
    '',
    '| field | type | always present | meaning |',
    '|---|---|---|---|',
  ];
  rows(schema, '', true, out);
  return `${out.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(new URL('../docs/run-report.md', import.meta.url), renderReportDocs());
}
