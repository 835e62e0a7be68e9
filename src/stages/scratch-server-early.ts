// The restore test's scratch server, started while the temporary instance is restored and dumped:
// initdb and a server start cost seconds of their own that the restore test would otherwise wait for.
import type { ScratchServer } from '../pipeline/ports.ts';
import type { RunContext } from '../pipeline/run-context.ts';
import type { Releaser } from '../pipeline/teardown-stack.ts';

type Opening = { server: Promise<ScratchServer>; releaser: Releaser };

const opening = new WeakMap<RunContext, Opening>();

function open(ctx: RunContext, sourceMajor: number): Opening {
  const server = ctx.deps.openScratchServer(ctx.config.scratch, { sourceMajor, signal: ctx.signal });
  server.catch(() => {}); // reported by the restore test, which awaits it
  const releaser = ctx.teardown.push('scratch server', async () => {
    const started = await server.catch(() => null);
    await started?.dispose();
  });
  return { server, releaser };
}

/** Starts opening the scratch server in the background; the teardown disposes of it. */
export function openScratchServerEarly(ctx: RunContext, sourceMajor: number): void {
  if (!opening.has(ctx)) opening.set(ctx, open(ctx, sourceMajor));
}

/** The restore test's scratch server: the one opened early, or one opened now; and its releaser. */
export async function scratchServerFor(
  ctx: RunContext,
  sourceMajor: number,
): Promise<{ server: ScratchServer; releaser: Releaser }> {
  const o = opening.get(ctx) ?? open(ctx, sourceMajor);
  opening.delete(ctx);
  return { server: await o.server, releaser: o.releaser };
}
