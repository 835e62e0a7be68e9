import { z } from 'zod';

/** A field that names an environment variable (how secrets are referenced, never inlined). */
export const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the NAME of an environment variable');
