// Times as the home sees them: in Home Assistant's time zone, in the user's language.
import type { Hass } from "./api";

function locale(hass: Hass): string {
  return hass.locale?.language || hass.language || "en";
}

// Making an Intl.DateTimeFormat costs far more than using one, and a page of requests formats
// hundreds of times; one formatter per language, time zone and style is kept.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(hass: Hass, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const lang = locale(hass);
  const zone = hass.config.time_zone;
  const key = `${lang}|${zone}|${options.dateStyle ?? ""}|${options.timeStyle ?? ""}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(lang, { ...options, timeZone: zone });
    formatters.set(key, found);
  }
  return found;
}

/** What of hass the drawn times depend on: language and time zone. */
export function formattingKey(hass: Hass): string {
  return `${locale(hass)}|${hass.config.time_zone}`;
}

/** Whether two hass objects format times alike. */
export function sameFormatting(a: Hass | undefined, b: Hass | undefined): boolean {
  return !!a && !!b && formattingKey(a) === formattingKey(b);
}

/** Date and time; with seconds where minutes alone would not tell times apart (clips). */
export function formatDateTime(hass: Hass, iso: string | null | undefined, seconds = false): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return formatter(hass, { dateStyle: "medium", timeStyle: seconds ? "medium" : "short" }).format(date);
}

/** Both ends of a window; with seconds when they share the minute ("4:27 PM to 4:27 PM"). */
export function formatRange(hass: Hass, start: string, end: string): { start: string; end: string } {
  const a = new Date(start).getTime();
  const b = new Date(end).getTime();
  const seconds = Math.floor(a / 60000) === Math.floor(b / 60000);
  return { start: formatDateTime(hass, start, seconds), end: formatDateTime(hass, end, seconds) };
}

export function formatTime(hass: Hass, iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return formatter(hass, { timeStyle: "medium" }).format(date);
}

export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}
