import { z } from 'zod';

/** Which restore-test checks run, beyond the exact row counts that always do. */
export const verifySchema = z.strictObject({});
