// Number formats shared by the Markdown, HTML and terminal renderings, so they agree.

/** Bytes for people: 512 B, 3.4 MiB, 1.20 GiB. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** A duration for people: 850 ms, 12.3 s, 4 min 05 s, 1 h 02 min. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** An integer with thousands separators (1,234,567), locale-independent. */
export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A signed percentage change, +12.5 % / −30 %. */
export function formatChange(previous: number, current: number): string {
  if (previous === 0) return current === 0 ? '±0 %' : 'new';
  const pct = ((current - previous) / previous) * 100;
  const digits = Math.abs(pct) < 10 ? 1 : 0;
  return `${pct >= 0 ? '+' : '−'}${Math.abs(pct).toFixed(digits)} %`;
}

/** An ISO instant as "2026-11-24 03:10 UTC". */
export function formatInstant(iso: string | null | undefined): string {
  if (!iso) return '—';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/**
 * A count and its noun, agreeing: "1 pack", "2 packs", "1,204 tables", "1 index"/"3 indexes"
 * (pass the plural when it is not the noun + "s"). Every "N things" a person reads goes through
 * here, so no report says "1 packs".
 */
export function counted(n: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${formatCount(n)} ${n === 1 ? noun : pluralNoun}`;
}
