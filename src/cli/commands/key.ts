import { createStore } from '../../adapters/create-deps.ts';
import type { StorePipelineConfig } from '../../config/schema.ts';
import { OffsiteError } from '../../errors.ts';
import type { ObjectStore } from '../../pipeline/ports.ts';
import { wrappedKeyKey } from '../../store/layout.ts';
import {
  openDataKey,
  readWrappedKeys,
  unwrapDataKey,
  type WrappedKey,
  wrapDataKey,
  writeWrappedKey,
} from '../../store/store-keys.ts';
import { pipelineLocation } from '../../store/store-location.ts';
import { checkNewUserKey, readUserKey, readUserKeys } from '../../store/user-key.ts';
import { loadStorePipelineFor, usageError } from '../arguments.ts';
import type { Command } from '../command.ts';
import { parseArgsOrUsage } from '../parse-args.ts';

const kindText = (w: WrappedKey) => (w.kind === 'passphrase' ? 'passphrase' : 'key file');

/** The store's wrapped keys; a store without any is not encrypted (exit 3, naming it). */
async function keysOf(
  store: ObjectStore,
  config: StorePipelineConfig,
  signal: AbortSignal,
): Promise<WrappedKey[]> {
  const wrapped = await readWrappedKeys(store, config.store.prefix, config.name, signal);
  if (wrapped.length === 0)
    throw new OffsiteError(
      'PREFLIGHT_FAILED',
      `${pipelineLocation(store, config.store.prefix, config.name)} holds no keys: it is not an encrypted store (yet)`,
      {
        hint: config.encryption
          ? "the pipeline's first offsite run makes the data key with the keys in encryption.keys"
          : 'encryption: { keys: [...] } in the pipeline file makes the first run encrypt the store',
      },
    );
  return wrapped;
}

/** Opens the data key with the pipeline's own keys (`encryption.keys`), skipping `skip`. */
async function openWithPipelineKeys(
  store: ObjectStore,
  config: StorePipelineConfig,
  wrapped: WrappedKey[],
  skip: Set<string> = new Set(),
) {
  if (!config.encryption)
    throw new OffsiteError(
      'PREFLIGHT_FAILED',
      `the pipeline ${config.name} has no encryption: to open its store with`,
      {
        hint: 'add encryption: { keys: [ { passphraseEnv: NAME } ] } (or { keyFile: path }) naming a key of this store',
      },
    );
  const users = await readUserKeys(config.encryption.keys);
  return openDataKey(wrapped, users, pipelineLocation(store, config.store.prefix, config.name), skip);
}

async function add(
  config: StorePipelineConfig,
  flags: { passphraseEnv?: string; keyFile?: string },
  signal: AbortSignal,
) {
  if (!!flags.passphraseEnv === !!flags.keyFile)
    throw usageError('offsite key add needs one of --passphrase-env VAR or --key-file PATH', 'key');
  if (flags.passphraseEnv && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(flags.passphraseEnv))
    throw usageError(
      '--passphrase-env: give the NAME of the environment variable holding the passphrase, never the passphrase',
      'key',
    );
  const store = createStore(config.store);
  const wrapped = await keysOf(store, config, signal);
  const opened = await openWithPipelineKeys(store, config, wrapped);
  const field = flags.passphraseEnv ? '--passphrase-env' : '--key-file';
  const user = await readUserKey(
    flags.passphraseEnv ? { passphraseEnv: flags.passphraseEnv } : { keyFile: flags.keyFile! },
    field,
  );
  checkNewUserKey(user);
  for (const w of wrapped) {
    if (await unwrapDataKey(w, user))
      throw new OffsiteError('USAGE', `${user.label} already opens the store: it is key ${w.keyId}`, {
        hint: 'offsite key list shows the keys; nothing was written',
      });
  }
  const copy = await wrapDataKey(opened.dataKey, user, new Date());
  await writeWrappedKey(store, config.store.prefix, config.name, copy, signal);
  process.stdout.write(
    `added key ${copy.keyId} (${kindText(copy)} from ${copy.source}) to ${pipelineLocation(store, config.store.prefix, config.name)}; the store now has ${wrapped.length + 1} keys\n` +
      `  next: name it in the pipeline's encryption.keys, keep a copy where losing this machine or the AWS account cannot lose it, and remove an old key with offsite key remove ${config.name} <key-id>\n`,
  );
}

async function list(config: StorePipelineConfig, json: boolean, signal: AbortSignal) {
  const store = createStore(config.store);
  const wrapped = await keysOf(store, config, signal);
  if (json) {
    const out = wrapped.map(({ keyId, kind, source, createdAt, dataKeyId }) => ({
      keyId,
      kind,
      source,
      createdAt,
      dataKeyId,
    }));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const rows = [
    ['KEY', 'KIND', 'FROM', 'ADDED'],
    ...wrapped.map((w) => [w.keyId, kindText(w), w.source, w.createdAt]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(
    `${rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n')}\n`,
  );
}

async function remove(config: StorePipelineConfig, keyId: string, signal: AbortSignal) {
  const store = createStore(config.store);
  const wrapped = await keysOf(store, config, signal);
  const target = wrapped.find((w) => w.keyId === keyId);
  if (!target)
    throw usageError(
      `the store has no key ${keyId}; its keys: ${wrapped.map((w) => w.keyId).join(', ')}`,
      'key',
    );
  if (wrapped.length === 1)
    throw new OffsiteError(
      'USAGE',
      `${keyId} is the store's last key: without it no backup could ever be read`,
      {
        hint: `add another first (offsite key add ${config.name} --passphrase-env VAR); nothing was removed`,
      },
    );
  // The pipeline must still open the store once the key is gone: proven before deleting it.
  await openWithPipelineKeys(store, config, wrapped, new Set([keyId])).catch((err: unknown) => {
    throw new OffsiteError(
      'CREDENTIALS_INVALID',
      `without key ${keyId}, none of the pipeline's keys (encryption.keys) opens the store: removing it would lock this pipeline out`,
      {
        hint: 'name the key that stays in encryption.keys (and set it) first; nothing was removed',
        cause: err,
      },
    );
  });
  await store.delete(wrappedKeyKey(config.store.prefix, config.name, keyId), signal);
  process.stdout.write(
    `removed key ${keyId} (${kindText(target)} from ${target.source}); the store has ${wrapped.length - 1} key${wrapped.length - 1 > 1 ? 's' : ''} left\n`,
  );
}

/** offsite key: the user keys that open an encrypted store's data key. */
export const command: Command = {
  summary: 'add, list or remove the keys that open an encrypted store (key add|list|remove <pipeline>)',
  help: {
    usage:
      'offsite key (add <pipeline> (--passphrase-env VAR | --key-file PATH) | list <pipeline> [--json] | remove <pipeline> <key-id>)',
    about: `An encrypted store's data key is kept in the store wrapped once per user key (a passphrase or a
key file); any one of them opens every backup. add wraps it with one more user key (the pipeline's
own encryption.keys must open the store); list shows the wrapped keys; remove deletes one, refusing
the last one and one without which the pipeline's encryption.keys would no longer open the store.
Changing keys rewrites no data. To rotate: key add the new one, put it in encryption.keys, then key
remove the old one.`,
    flags: [
      ['add|list|remove', 'what to do'],
      [
        '--passphrase-env VAR',
        'add: the environment variable holding the new passphrase (at least 16 characters)',
      ],
      ['--key-file PATH', 'add: a file holding the new key (at least 32 bytes: openssl rand -base64 32)'],
      ['<key-id>', 'remove: the key to remove, as key list shows it'],
      ['--json', 'list: print the keys as a JSON array'],
    ],
    examples: [
      'read -rs NEW_KEY && export NEW_KEY && offsite key add app-prod --passphrase-env NEW_KEY',
      'offsite key add app-prod --key-file /etc/offsite/app-prod-2.key',
      'offsite key list app-prod',
      'offsite key remove app-prod 3f9c2d1a',
    ],
    exits: [
      [0, 'done'],
      [2, 'bad usage, an invalid pipeline file, a weak new key, the last key, an unknown key id'],
      [
        3,
        "a key is missing or wrong, the store is not encrypted, or the pipeline's keys would not open it after a removal",
      ],
      [4, 'the store could not be reached'],
      [5, 'the store refused the credentials (or, under Object Lock, the removal)'],
    ],
  },
  async run({ args, log, signal }) {
    const { values, positionals } = parseArgsOrUsage(
      {
        args,
        allowPositionals: true,
        options: {
          'passphrase-env': { type: 'string' },
          'key-file': { type: 'string' },
          json: { type: 'boolean' },
        },
      },
      'offsite key --help',
    );
    const [action, pipeline, ...rest] = positionals;
    const arity: Record<string, number> = { add: 0, list: 0, remove: 1 };
    if (!action || !(action in arity) || !pipeline || rest.length !== arity[action])
      throw usageError(
        'offsite key add <pipeline> (--passphrase-env VAR | --key-file PATH), key list <pipeline> [--json] or key remove <pipeline> <key-id>',
        'key',
      );
    if (action !== 'add' && (values['passphrase-env'] || values['key-file']))
      throw usageError(`--passphrase-env and --key-file go with key add, not key ${action}`, 'key');
    const config = await loadStorePipelineFor(pipeline, log);
    if (action === 'add')
      await add(config, { passphraseEnv: values['passphrase-env'], keyFile: values['key-file'] }, signal);
    else if (action === 'list') await list(config, values.json === true, signal);
    else await remove(config, rest[0]!, signal);
    return 'ok';
  },
};
