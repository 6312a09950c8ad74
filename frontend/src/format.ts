// Times as the home sees them: in Home Assistant's time zone, in the user's language.
import type { Hass } from "./api";

function locale(hass: Hass): string {
  return hass.locale?.language || hass.language || "en";
}

/** Date and time; with seconds where minutes alone would not tell times apart (clips). */
export function formatDateTime(hass: Hass, iso: string | null | undefined, seconds = false): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(hass), {
    dateStyle: "medium",
    timeStyle: seconds ? "medium" : "short",
    timeZone: hass.config.time_zone,
  }).format(date);
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
  return new Intl.DateTimeFormat(locale(hass), {
    timeStyle: "medium",
    timeZone: hass.config.time_zone,
  }).format(date);
}

export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}
