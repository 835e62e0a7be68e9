import { esc } from './escape.ts';
import { STYLES } from './styles.ts';

// The policy forbids every fetch: a report opened from a mail attachment or a bucket must not
// call anywhere (no fonts, no scripts, no images but inline data).
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** A complete, self-contained HTML document: inline CSS, no scripts, no external resources. */
export function htmlDocument(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}</title>
<style>${STYLES}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
