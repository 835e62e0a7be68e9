// offsite doctor's encryption check: the pipeline's keys open the store's data key (or, on a store
// with nothing in it yet, are strong enough to make it), and the store and the pipeline agree on
// whether it is encrypted. Reads only: the data key is never made here.
import type { PipelineConfig } from '../config/schema.ts';
import type { ObjectStore } from '../pipeline/ports.ts';
import { counted } from '../report/format.ts';
import { pipelinePrefix } from '../store/layout.ts';
import { openPipelineStore } from '../store/open-store.ts';
import { openDataKey, readWrappedKeys } from '../store/store-keys.ts';
import { checkNewUserKey, readUserKeys } from '../store/user-key.ts';

/** What a passed check found; throws (with a hint) when the keys do not open the store. */
export async function checkEncryption(
  store: ObjectStore,
  config: PipelineConfig,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<string> {
  if (!config.encryption) {
    // Refuses an encrypted store the pipeline has no keys for; otherwise nothing to check.
    await openPipelineStore(store, config, { env, signal });
    return 'not configured: the store is plaintext';
  }
  const users = await readUserKeys(config.encryption.keys, env);
  const wrapped = await readWrappedKeys(store, config.store.prefix, config.name, signal);
  if (wrapped.length === 0) {
    // A plaintext store with data is refused here as it is by run.
    await openPipelineStore(store, config, { env, signal });
    for (const user of users) checkNewUserKey(user);
    return `no data key yet: the first run makes it, wrapped by ${users.map((u) => u.label).join(' and ')}`;
  }
  const where = store.urlOf(`${pipelinePrefix(config.store.prefix, config.name)}/`);
  const opened = await openDataKey(wrapped, users, where);
  return `${opened.user.label} opens the store's data key (key ${opened.wrapped.keyId}; ${counted(wrapped.length, 'key')} in the store)`;
}
