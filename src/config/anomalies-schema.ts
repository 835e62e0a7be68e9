import { z } from 'zod';

/** Day-over-day comparison with the previous verified backup of the same pipeline. */
export const anomaliesSchema = z.strictObject({});
