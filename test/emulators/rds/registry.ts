/** Emulators running in this process, for leak-check.ts (kept tiny: every test file imports it). */
import type { RdsEmulator } from './types.ts';

const running = new Set<RdsEmulator>();

export function registerEmulator(emulator: RdsEmulator): void {
  running.add(emulator);
}

export function unregisterEmulator(emulator: RdsEmulator): void {
  running.delete(emulator);
}

export function runningEmulators(): RdsEmulator[] {
  return [...running];
}
