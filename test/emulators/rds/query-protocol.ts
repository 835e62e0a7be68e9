/**
 * The AWS Query protocol as RDS speaks it: form-encoded parameters in, XML out.
 * Shapes follow what @aws-sdk/client-rds serializes and deserializes (its schemas name list
 * members: `Filters.Filter.1.Values.Value.1`, `Tags.Tag.1.Key`, `<DBSnapshot>`, `<Tag>`).
 */
import { randomUUID } from 'node:crypto';

export type Params = Record<string, string>;

/** An RDS API error: rendered as `<ErrorResponse>` with this code and HTTP status. */
export class RdsError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export function parseForm(body: string): Params {
  return Object.fromEntries(new URLSearchParams(body));
}

/**
 * Members of a list parameter, in index order. Accepts `Name.N`, `Name.member.N` and
 * `Name.<MemberName>.N`; each member is its sub-parameters (`''` holds a scalar member's value).
 * An empty list is sent as `Name=`.
 */
export function listParam(params: Params, name: string): Params[] {
  const pattern = new RegExp(`^${name.replace(/\./g, '\\.')}\\.(?:[A-Za-z]+\\.)?(\\d+)(?:\\.(.+))?$`);
  const members = new Map<number, Params>();
  for (const [key, value] of Object.entries(params)) {
    const match = pattern.exec(key);
    if (!match) continue;
    const index = Number(match[1]);
    const member = members.get(index) ?? {};
    member[match[2] ?? ''] = value;
    members.set(index, member);
  }
  return [...members.entries()].sort(([a], [b]) => a - b).map(([, member]) => member);
}

export function stringList(params: Params, name: string): string[] {
  return listParam(params, name).map((member) => member[''] ?? '');
}

export function requireParam(params: Params, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') {
    throw new RdsError('MissingParameter', `The request must contain the parameter ${name}`);
  }
  return value;
}

export function boolParam(params: Params, name: string): boolean | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') {
    throw new RdsError('InvalidParameterValue', `Invalid boolean value ${value} for ${name}`);
  }
  return value === 'true';
}

export function intParam(params: Params, name: string): number | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value))
    throw new RdsError('InvalidParameterValue', `Invalid integer value ${value} for ${name}`);
  return Number(value);
}

// ---- XML ----------------------------------------------------------------------------------------

/** Already-rendered XML, inserted as is. */
export class RawXml {
  readonly xml: string;
  constructor(xml: string) {
    this.xml = xml;
  }
}

export type XmlValue = string | number | boolean | Date | RawXml | XmlFields | undefined;
export interface XmlFields {
  [element: string]: XmlValue;
}

const ENTITIES: Record<string, string> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  "'": '&apos;',
  '"': '&quot;',
};

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ENTITIES[c] ?? c);
}

function renderValue(value: Exclude<XmlValue, undefined>): string {
  if (value instanceof RawXml) return value.xml;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return renderFields(value);
  return escapeXml(String(value));
}

/** Elements in key order; undefined values are omitted, as RDS omits absent fields. */
export function renderFields(fields: XmlFields): string {
  return Object.entries(fields)
    .filter((entry): entry is [string, Exclude<XmlValue, undefined>] => entry[1] !== undefined)
    .map(([name, value]) => `<${name}>${renderValue(value)}</${name}>`)
    .join('');
}

/** A list's members, each wrapped in `<member>`: the SDK reads only the member name its schema declares. */
export function xmlList(member: string, items: readonly Exclude<XmlValue, undefined>[]): RawXml {
  return new RawXml(items.map((item) => `<${member}>${renderValue(item)}</${member}>`).join(''));
}

const NAMESPACE = 'http://rds.amazonaws.com/doc/2014-10-31/';

export function renderResult(
  action: string,
  result: XmlFields | undefined,
  requestId = randomUUID(),
): string {
  const body = result ? `<${action}Result>${renderFields(result)}</${action}Result>` : '';
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NAMESPACE}">${body}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function renderError(error: RdsError, requestId = randomUUID()): string {
  const fields = {
    Type: error.status >= 500 ? 'Receiver' : 'Sender',
    Code: error.code,
    Message: error.message,
  };
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${NAMESPACE}">` +
    `<Error>${renderFields(fields)}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
