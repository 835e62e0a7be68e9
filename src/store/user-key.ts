// The user keys that open an encrypted store's data key, read from where the pipeline says they
// are: a passphrase in an environment variable, or a key file. Their secrets stay in memory and
// are never logged: messages name the variable or the file, never what they hold.
import { readFile } from 'node:fs/promises';
import type { UserKeyConfig } from '../config/encryption-schema.ts';
import { OffsiteError } from '../errors.ts';

/** A passphrase shorter than this is refused when a key is made (an existing one still opens). */
export const MIN_PASSPHRASE = 16;
/** A key file shorter than this (after trailing whitespace) is refused when a key is made. */
export const MIN_KEY_FILE = 32;

/** A user key, ready to wrap or unwrap the data key. */
export interface UserKey {
  kind: 'passphrase' | 'keyFile';
  /** Where it came from, for people and for the stored key's label: the variable's name or the file's path. */
  source: string;
  /** "the passphrase in OFFSITE_KEY" / "the key file /etc/offsite/app.key". */
  label: string;
  secret: Buffer;
}

/** Reads one configured user key; `field` names it in messages (e.g. "encryption.keys[0]"). */
export async function readUserKey(
  config: UserKeyConfig,
  field: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<UserKey> {
  if ('passphraseEnv' in config) {
    const name = config.passphraseEnv;
    const value = env[name];
    if (!value)
      throw new OffsiteError(
        'CREDENTIALS_MISSING',
        `${field}.passphraseEnv: environment variable ${name} is not set (or is empty): it holds the passphrase that opens the store's data key`,
        {
          hint: `export ${name} with the store's passphrase (from where you keep it, e.g. the password manager); nothing was written`,
        },
      );
    // NFC, so the same passphrase typed on another system opens the store.
    return {
      kind: 'passphrase',
      source: name,
      label: `the passphrase in ${name}`,
      secret: Buffer.from(value.normalize('NFC'), 'utf8'),
    };
  }
  const path = config.keyFile;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new OffsiteError(
      code === 'EACCES' || code === 'EPERM' ? 'LOCAL_ACCESS_DENIED' : 'CREDENTIALS_MISSING',
      `${field}.keyFile: cannot read the key file ${path} (${code ?? (err as Error).message}): it holds the key that opens the store's data key`,
      {
        hint: `put the store's key file at ${path} (from where you keep it, e.g. the password manager), readable by this user; nothing was written`,
        cause: err,
      },
    );
  }
  // A trailing newline an editor or `echo` added is not part of the key.
  const secret = Buffer.from(bytes.toString('latin1').replace(/\s+$/, ''), 'latin1');
  return { kind: 'keyFile', source: path, label: `the key file ${path}`, secret };
}

/** Reads every configured user key, in order; the first one missing fails (named). */
export async function readUserKeys(
  keys: readonly UserKeyConfig[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<UserKey[]> {
  const out: UserKey[] = [];
  for (const [i, k] of keys.entries()) out.push(await readUserKey(k, `encryption.keys[${i}]`, env));
  return out;
}

/** Refuses a user key too weak to become a key of a store (USAGE, naming it). */
export function checkNewUserKey(key: UserKey): void {
  if (key.kind === 'passphrase' && [...key.secret.toString('utf8')].length < MIN_PASSPHRASE)
    throw new OffsiteError(
      'USAGE',
      `${key.label} is shorter than ${MIN_PASSPHRASE} characters: too weak to guard every backup`,
      { hint: 'use a long passphrase (e.g. six random words from a password manager); nothing was written' },
    );
  if (key.kind === 'keyFile' && key.secret.length < MIN_KEY_FILE)
    throw new OffsiteError(
      'USAGE',
      `${key.label} holds fewer than ${MIN_KEY_FILE} bytes: too short to be a key`,
      {
        hint: `make one with: openssl rand -base64 32 > ${key.source} && chmod 600 ${key.source}; nothing was written`,
      },
    );
}
