import type { StorePipelineConfig } from './schema.ts';
import { checkStoreRules } from './store-rules.ts';

/** A problem found in a pipeline file: where, what, and how to fix it. */
export interface ConfigIssue {
  path: string;
  message: string;
}

const SECRET_KEY = /^(password|passwd|secret|secretAccessKey|accessKeyId|apiKey|token|applicationKey|url)$/i;

/** Inline secrets are refused before schema validation, so the message can say what to write instead. */
export function findInlineSecrets(value: unknown, path = ''): ConfigIssue[] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => findInlineSecrets(item, `${path}[${i}]`));
  return Object.entries(value).flatMap(([key, item]) => {
    const here = path ? `${path}.${key}` : key;
    if (SECRET_KEY.test(key) && typeof item === 'string') {
      return [
        {
          path: here,
          message: `secrets are never written in a pipeline file; put it in an environment variable and write \`${key}Env: NAME_OF_THAT_VARIABLE\``,
        },
      ];
    }
    return findInlineSecrets(item, here);
  });
}

/**
 * Cross-field rules that a schema cannot express (formats of single fields are in
 * field-formats.ts, the store's rules in store-rules.ts, checks of this machine in preflight.ts).
 * Pure: errors stop the run; warnings are logged.
 */
export function checkRules(config: StorePipelineConfig): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  // A file for the store-only commands may leave `source:` out.
  if (config.source) checkSourceRules(config.source, errors, warnings);
  const store = checkStoreRules(config.store);
  errors.push(...store.errors);
  warnings.push(...store.warnings);
  return { errors, warnings };
}

function checkSourceRules(
  source: NonNullable<StorePipelineConfig['source']>,
  errors: ConfigIssue[],
  warnings: ConfigIssue[],
): void {
  const temp = source.tempInstance;
  // The temporary instance holds a full copy of production: never on AWS's default network.
  if (!temp.subnetGroup) {
    errors.push({
      path: 'source.tempInstance.subnetGroup',
      message: 'required: name a DB subnet group of private subnets for the temporary instance',
    });
  }
  if (temp.securityGroupIds.length === 0) {
    errors.push({
      path: 'source.tempInstance.securityGroupIds',
      message:
        'required: list the security group(s) that let only the backup host reach the temporary instance',
    });
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: source.snapshot.timeZone });
  } catch {
    errors.push({
      path: 'source.snapshot.timeZone',
      message: `unknown time zone "${source.snapshot.timeZone}"; use an IANA name such as UTC or Europe/Berlin`,
    });
  }
  if (temp.waitTimeoutMinutes < 10 && !source.rds.endpoint) {
    warnings.push({
      path: 'source.tempInstance.waitTimeoutMinutes',
      message: 'restoring a real RDS snapshot usually takes 10-40 minutes',
    });
  }
}
