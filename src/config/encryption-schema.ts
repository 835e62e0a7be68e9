import { z } from 'zod';
import { envName } from './env-name.ts';

// Fields a person might write a secret into: named in the refusal so the fix is plain.
const INLINE_SECRET = new Set(['passphrase', 'password', 'key', 'secret', 'keyData', 'value']);

/**
 * One user key that opens the store's data key: a passphrase in an environment variable, or a
 * key file (at least 32 bytes; `openssl rand -base64 32`). Never the secret itself.
 */
const userKeySchema = z
  .looseObject({ passphraseEnv: envName.optional(), keyFile: z.string().min(1).optional() })
  .superRefine((k, ctx) => {
    for (const field of Object.keys(k)) {
      if (field === 'passphraseEnv' || field === 'keyFile') continue;
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: INLINE_SECRET.has(field)
          ? 'a secret never goes in a pipeline file: put the passphrase in an environment variable and name it with passphraseEnv, or the key in a file named by keyFile (and rotate this one: it was written down)'
          : 'unknown field: a key is { passphraseEnv: NAME } or { keyFile: path }',
      });
    }
    if ((k.passphraseEnv === undefined) === (k.keyFile === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message:
          'name exactly one of passphraseEnv (the environment variable holding a passphrase) or keyFile (a file holding a key)',
      });
    }
  })
  .transform(
    (k): UserKeyConfig => (k.passphraseEnv ? { passphraseEnv: k.passphraseEnv } : { keyFile: k.keyFile! }),
  );

/** A configured user key: where its secret is. */
export type UserKeyConfig = { passphraseEnv: string } | { keyFile: string };

/**
 * Client-side encryption of the pipeline's store (README "Encryption"): the keys that open its
 * data key. Any one of them opens the store; all must be readable on this machine.
 */
export const encryptionSchema = z.strictObject({
  keys: z.array(userKeySchema).min(1),
});

export type EncryptionConfig = z.infer<typeof encryptionSchema>;
